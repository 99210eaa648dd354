//! Time to publish state-by-form and state-by-typology tables through the gate, with the attacker's
//! check. Run: `cargo run --release -p lantern-insights --example gate_bench -- 27`.

use lantern_insights::gate::{Dimension, GateConfig, Table, attack, publish};
use std::time::Instant;

fn main() {
    let cols: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let mut x: u64 = 12345;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let cells: Vec<Vec<u64>> = (0..52)
        .map(|_| {
            (0..cols)
                .map(|_| {
                    let r = next() % 100;
                    if r < 30 { r % 3 } else { r % 40 }
                })
                .collect()
        })
        .collect();
    let rows = Dimension::new("state", (0..52).map(|i| format!("S{i}")));
    let t = Table::two_way(
        "t",
        "cases",
        rows.clone(),
        Dimension::new("c", (0..cols).map(|i| format!("C{i}"))),
        cells.clone(),
    );
    let one = Table::one_way(
        "s",
        "cases",
        rows,
        cells.iter().map(|r| r.iter().sum()).collect(),
    );
    let t0 = Instant::now();
    let r = publish(&[t, one], &GateConfig::default()).unwrap();
    let publish_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let a = attack(&r);
    println!(
        "52 x {cols}: published in {publish_s:.2} s, attacked in {:.2} s, {} hidden, {} breaches",
        t1.elapsed().as_secs_f64(),
        a.intervals.len(),
        a.breaches(&r.config).len()
    );
}
