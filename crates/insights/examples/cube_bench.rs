//! Dashboard queries over a cube built from the synthetic hotline.
//! Run: `cargo run --release -p lantern-insights --example cube_bench -- 28.6` (scale 28.6 ≈ 1M cases,
//! 4.3M contacts). Prints cube size and p50/p99 per query.

use lantern_domain::codes::{CaseForm, Outcome, Typology, UsState};
use lantern_domain::screening::assess;
use lantern_domain::synth::{Generator, SynthItem};
use lantern_insights::cube::{Counts, Cube, CubeKey, Dim, Filter, YearMonth};
use std::time::Instant;

fn month(t: time::OffsetDateTime) -> YearMonth {
    YearMonth::new(t.year() as u16, t.month() as u8).expect("synthetic dates are in range")
}

fn main() {
    let scale: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let t0 = Instant::now();
    let mut cube = Cube::new();
    let (mut cases, mut contacts) = (0u64, 0u64);
    for item in Generator::new(42, scale) {
        match item {
            SynthItem::Case(c) => {
                cases += 1;
                let outcome = assess(&c.answers).outcome;
                let state = c.case.locations.first().and_then(|l| l.state);
                let typology = c
                    .case
                    .typology
                    .first()
                    .copied()
                    .unwrap_or(Typology::Unknown);
                let victims = c
                    .parties
                    .iter()
                    .filter(|p| p.role == lantern_domain::codes::PartyRole::PotentialVictim)
                    .count() as i64;
                for (i, ct) in c.contacts.iter().enumerate() {
                    contacts += 1;
                    let key = CubeKey {
                        month: month(ct.occurred_at),
                        state: ct.location.state.or(state),
                        form: c.case.form,
                        typology,
                        channel: ct.channel,
                        signaler_type: ct
                            .signaler_type
                            .unwrap_or(lantern_domain::codes::SignalerType::Other),
                        outcome,
                        referral_status: None,
                    };
                    let first = i64::from(i == 0);
                    cube.add(
                        &key,
                        Counts {
                            contacts: 1,
                            substantive: 1,
                            cases: first,
                            victims: victims * first,
                            referrals: 0,
                        },
                    );
                }
            }
            SynthItem::Contact(ct) => {
                contacts += 1;
                let key = CubeKey {
                    month: month(ct.occurred_at),
                    state: ct.location.state,
                    form: CaseForm::NotSpecified,
                    typology: Typology::Unknown,
                    channel: ct.channel,
                    signaler_type: ct
                        .signaler_type
                        .unwrap_or(lantern_domain::codes::SignalerType::Other),
                    outcome: Outcome::InsufficientInformation,
                    referral_status: None,
                };
                cube.add(
                    &key,
                    Counts {
                        contacts: 1,
                        ..Counts::default()
                    },
                );
            }
        }
    }
    println!(
        "built cube from {cases} cases, {contacts} contacts in {:.1} s: {} cells",
        t0.elapsed().as_secs_f64(),
        cube.len()
    );
    let year = Filter {
        from: YearMonth::new(2025, 1),
        to: YearMonth::new(2025, 12),
        ..Filter::default()
    };
    let tx = Filter {
        states: vec![UsState::Tx],
        forms: vec![CaseForm::Labor],
        ..year.clone()
    };
    let queries: Vec<(&str, Filter, Vec<Dim>)> = vec![
        ("headline", Filter::default(), vec![]),
        ("by month", Filter::default(), vec![Dim::Month]),
        ("by channel, one year", year.clone(), vec![Dim::Channel]),
        (
            "by signaler type",
            Filter::default(),
            vec![Dim::SignalerType],
        ),
        (
            "by form x typology",
            Filter::default(),
            vec![Dim::Form, Dim::Typology],
        ),
        ("by state (map)", year.clone(), vec![Dim::State]),
        ("TX labor by month", tx, vec![Dim::Month]),
    ];
    println!("| query | p50 ms | p99 ms |\n|---|---|---|");
    for (name, f, g) in queries {
        let mut times: Vec<f64> = (0..200)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(cube.query(&f, &g));
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("| {name} | {:.2} | {:.2} |", times[100], times[197]);
    }
}
