//! Stand-alone `lantern-linkage`: the same pipeline as `lantern link`, without the server, for
//! benchmarks. Arguments: `--input F [--input-b F] --id COL [--config F] [--threshold P] --output F
//! [--no-explanations]`.

use std::path::PathBuf;
use std::process::ExitCode;

use lantern_linkage::run::{LinkOptions, StderrProgress, run};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = LinkOptions {
        input: PathBuf::new(),
        input_b: None,
        id: String::new(),
        config: None,
        threshold: None,
        output: PathBuf::new(),
        kind: None,
        explanations: true,
    };
    let mut i = 0;
    while i + 1 < args.len() + 1 && i < args.len() {
        if args[i] == "--no-explanations" {
            opts.explanations = false;
            i += 1;
            continue;
        }
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--input" => opts.input = v.into(),
            "--input-b" => opts.input_b = Some(v.into()),
            "--id" => opts.id = v,
            "--config" => opts.config = Some(v.into()),
            "--threshold" => match v.parse() {
                Ok(t) => opts.threshold = Some(t),
                Err(_) => {
                    eprintln!("lantern-linkage: --threshold needs a number, got `{v}`");
                    return ExitCode::from(2);
                }
            },
            "--output" => opts.output = v.into(),
            other => {
                eprintln!("lantern-linkage: unknown argument `{other}`");
                return ExitCode::from(2);
            }
        }
        i += 2;
    }
    match run(&opts, &StderrProgress::default()) {
        Ok(summary) => {
            eprintln!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lantern-linkage: {e}");
            ExitCode::from(2)
        }
    }
}
