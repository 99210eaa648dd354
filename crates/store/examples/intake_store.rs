//! Throughput of recording contacts straight into the store (no HTTP): `cargo run --release -p
//! lantern-store --example intake_store -- [DB_URL] [N] [CONCURRENCY]`. Used to size the write path.

use lantern_store::{AuditCtx, Keyring, NewContact, NewDetermination, NewHotline, OpenOptions};
use std::time::Instant;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = tempfile::tempdir().unwrap();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| dir.path().join("bench.db").display().to_string());
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let conc: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(64);
    let store = lantern_store::open(&url, Keyring::generate(), &OpenOptions::default())
        .await
        .unwrap();
    let slug = format!("bench{}", std::process::id());
    let h = store
        .create_hotline(
            &AuditCtx::system(None),
            &NewHotline {
                slug,
                name: "Bench".into(),
            },
        )
        .await
        .unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..conc {
        let store = store.clone();
        let hid = h.id.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for _ in (w..n).step_by(conc) {
                let t = Instant::now();
                let c = NewContact {
                    hotline_id: hid.clone(),
                    channel: "phone".into(),
                    location_precision: "state".into(),
                    state: Some("TX".into()),
                    narrative: Some(
                        "A caller describes a restaurant job where the boss keeps passports."
                            .into(),
                    ),
                    occurred_at_us: 1,
                    determination: Some(NewDetermination {
                        answers_json: "{}".into(),
                        outcome: "possible_trafficking".into(),
                        forms: vec!["labor".into()],
                        reasons: vec!["x".into()],
                        rules_version: "1".into(),
                        needs_review: true,
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                store
                    .create_contact(&AuditCtx::system(Some(hid.clone())), &c)
                    .await
                    .unwrap();
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut lat: Vec<f64> = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    println!(
        "{n} contacts, {conc} concurrent: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
        n as f64 / secs,
        p(0.5),
        p(0.99)
    );
}
