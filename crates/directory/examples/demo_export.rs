//! Writes the demo directory generator's output as an HSDS Tabular Data Package, for benchmarks and for
//! trying `lantern directory import` on a realistic network:
//!
//! ```text
//! cargo run --release -p lantern-directory --example demo_export -- SEED ENTRIES DIR
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [seed, entries, dir] = args.as_slice() else {
        eprintln!("usage: demo_export SEED ENTRIES DIR");
        return ExitCode::from(2);
    };
    let (Ok(seed), Ok(entries)) = (seed.parse::<u64>(), entries.parse::<usize>()) else {
        eprintln!("SEED and ENTRIES must be whole numbers");
        return ExitCode::from(2);
    };
    let directory = lantern_directory::demo::generate(seed, entries);
    let dir = PathBuf::from(dir);
    if let Err(e) = std::fs::create_dir_all(&dir)
        .and_then(|()| lantern_directory::io::export_datapackage(&directory, &dir))
    {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::from(1);
    }
    println!(
        "{} services at {} locations written to {}",
        directory.service.len(),
        directory.service_at_location.len(),
        dir.display()
    );
    ExitCode::SUCCESS
}
