//! Times the synthetic hotline at scale 1.0 (35,000 cases, about 150,000 contacts).
//! Run: `cargo run --release -p lantern-domain --example synth_bench`

use lantern_domain::synth::{Generator, SynthItem};
use std::time::Instant;

fn main() {
    let mut times = Vec::new();
    let (mut cases, mut contacts, mut parties) = (0usize, 0usize, 0usize);
    for _ in 0..7 {
        let t = Instant::now();
        (cases, contacts, parties) = (0, 0, 0);
        for item in Generator::new(2026, 1.0) {
            match item {
                SynthItem::Case(c) => {
                    cases += 1;
                    contacts += c.contacts.len();
                    parties += c.parties.len();
                }
                SynthItem::Contact(_) => contacts += 1,
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{cases} cases, {contacts} contacts, {parties} parties: median {:.0} ms (min {:.0}, max {:.0}) over 7 runs",
        times[3], times[0], times[6]
    );
}
