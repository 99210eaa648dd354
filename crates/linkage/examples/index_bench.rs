//! Intake latency: index every record of a CSV, then score records one at a time and report p50/p95.
//! `cargo run --release -p lantern-linkage --example index_bench -- people.csv people.toml rec_id 2000`

use std::path::Path;
use std::time::Instant;

use lantern_linkage::model::build_blocks;
use lantern_linkage::{Dataset, LinkConfig, LinkIndex, Linker, Quiet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [csv_path, cfg_path, id, probes] = args.as_slice() else {
        return Err("usage: index_bench FILE.csv CONFIG.toml ID_COLUMN PROBES".into());
    };
    let probes: usize = probes.parse()?;
    let cfg = LinkConfig::from_toml(&std::fs::read_to_string(cfg_path)?)?;
    let mut data = Dataset::new(&cfg);
    lantern_linkage::csvio::load(Path::new(csv_path), id, &cfg, 0, &mut data)?;
    let rules = lantern_linkage::block::compile_rules(&cfg)?;
    let blocks = build_blocks(&data, &rules);
    let linker = Linker::train(cfg.clone(), &data, &blocks, &Quiet)?;
    drop(blocks);
    let t = Instant::now();
    let index = LinkIndex::new(linker, data);
    eprintln!(
        "indexed {} records in {:.1} s",
        index.len(),
        t.elapsed().as_secs_f64()
    );
    // Probe with raw rows of the same file (every 97th row), as a new party at intake would be.
    let mut rd = csv::Reader::from_path(csv_path)?;
    let header = rd.headers()?.clone();
    let at: Vec<usize> = cfg
        .fields
        .iter()
        .map(|f| header.iter().position(|h| h == f.column).unwrap_or(0))
        .collect();
    let mut times = Vec::with_capacity(probes);
    let mut found = 0usize;
    for rec in rd.records().step_by(97).take(probes) {
        let rec = rec?;
        let vals: Vec<&str> = at.iter().map(|&i| &rec[i]).collect();
        let t = Instant::now();
        let m = index.score(&vals, 0.9);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        found += usize::from(!m.is_empty());
    }
    times.sort_by(f64::total_cmp);
    let q = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "probes={} with_match={} p50_ms={:.3} p95_ms={:.3} p99_ms={:.3} max_ms={:.3}",
        times.len(),
        found,
        q(0.5),
        q(0.95),
        q(0.99),
        times[times.len() - 1]
    );
    Ok(())
}
