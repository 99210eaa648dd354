//! The whole CSV pipeline behind `lantern link`: read, train, score, cluster, write, with progress
//! and a summary of time per stage.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::{ConfigError, LinkConfig};
use crate::csvio::{InputError, load, read_header};
use crate::data::Dataset;
use crate::explain::Explainer;
use crate::model::{Linker, Progress, build_blocks, cluster, probability, weight_of};
use crate::pairs::Compared;

/// What `--output` receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// One row per pair at or above the threshold, with its explanation.
    Pairs,
    /// One row per record with its cluster number.
    Clusters,
}

impl OutputKind {
    /// Clusters when the file name starts with `cluster`, else pairs.
    pub fn from_path(path: &Path) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.starts_with("cluster") {
            OutputKind::Clusters
        } else {
            OutputKind::Pairs
        }
    }
}

/// Options of one link run.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// The CSV to deduplicate, or the first of two to link.
    pub input: PathBuf,
    /// The second CSV when linking two files.
    pub input_b: Option<PathBuf>,
    /// The id column (in both files).
    pub id: String,
    /// TOML settings; inferred from column names when absent.
    pub config: Option<PathBuf>,
    /// Overrides the config's threshold.
    pub threshold: Option<f64>,
    /// Where results go.
    pub output: PathBuf,
    /// What results are written; from the output's file name when absent.
    pub kind: Option<OutputKind>,
    /// Whether the pairs file has each pair's explanation (per field: level and weight added).
    pub explanations: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Records read (both files).
    pub records: usize,
    /// Unique candidate pairs compared.
    pub candidates: u64,
    /// Pairs at or above the threshold.
    pub matched_pairs: usize,
    /// Clusters of two or more records.
    pub clusters: usize,
    /// Wall time per stage.
    pub stages: Vec<(&'static str, Duration)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "records:          {}", self.records)?;
        writeln!(f, "candidate pairs:  {}", self.candidates)?;
        writeln!(f, "matched pairs:    {}", self.matched_pairs)?;
        writeln!(f, "clusters (2+):    {}", self.clusters)?;
        let total: Duration = self.stages.iter().map(|s| s.1).sum();
        for (name, d) in &self.stages {
            writeln!(f, "  {name:<10} {:>8.3} s", d.as_secs_f64())?;
        }
        write!(f, "  {:<10} {:>8.3} s", "total", total.as_secs_f64())
    }
}

/// Why a run failed; nothing is written when it does.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Bad input file.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Bad settings.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The output could not be written.
    #[error("{path}: {message}")]
    Output {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Progress drawn as a bar on standard error.
#[derive(Debug, Default)]
pub struct StderrProgress {
    last: Mutex<(String, u64)>,
}

impl Progress for StderrProgress {
    fn report(&self, stage: &str, done: u64, total: u64) {
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.0 == stage && last.1 == pct && done != total {
            return;
        }
        *last = (stage.to_string(), pct);
        let filled = (pct / 5) as usize;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{stage:<14} [{}{}] {pct:>3}%",
            "#".repeat(filled),
            " ".repeat(20 - filled)
        );
        if done >= total {
            let _ = writeln!(err);
        }
    }
}

/// Reads the settings: from the TOML file, or inferred from the header.
pub fn load_config(opts: &LinkOptions) -> Result<LinkConfig, LinkError> {
    let header = read_header(&opts.input)?;
    let mut cfg = match &opts.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| ConfigError::Toml(format!("{}: {e}", p.display())))?;
            LinkConfig::from_toml(&text).map_err(|e| match e {
                ConfigError::Toml(m) => ConfigError::Toml(format!("{}: {m}", p.display())),
                other => other,
            })?
        }
        None => LinkConfig::infer(&header, &opts.id)?,
    };
    if let Some(t) = opts.threshold {
        cfg.threshold = t;
        cfg.validate()?;
    }
    cfg.check_columns(&header)?;
    if let Some(b) = &opts.input_b {
        cfg.check_columns(&read_header(b)?)?;
    }
    Ok(cfg)
}

/// Runs the whole pipeline and writes the output.
pub fn run(opts: &LinkOptions, progress: &dyn Progress) -> Result<Summary, LinkError> {
    let mut summary = Summary::default();
    let t = Instant::now();
    let cfg = load_config(opts)?;
    let mut data = Dataset::new(&cfg);
    progress.report("read", 0, 1);
    load(&opts.input, &opts.id, &cfg, 0, &mut data)?;
    if let Some(b) = &opts.input_b {
        load(b, &opts.id, &cfg, 1, &mut data)?;
    }
    progress.report("read", 1, 1);
    summary.records = data.len();
    summary.stages.push(("read", t.elapsed()));

    let t = Instant::now();
    let rules = crate::block::compile_rules(&cfg)?;
    let blocks = build_blocks(&data, &rules);
    summary.stages.push(("block", t.elapsed()));

    let t = Instant::now();
    let compared = Compared::new(&data, &blocks, cfg.em_max_pairs, cfg.seed, progress);
    summary.stages.push(("compare", t.elapsed()));

    let t = Instant::now();
    let threshold = cfg.threshold;
    let linker = Linker::train_on(cfg, &data, &compared, progress)?;
    summary.stages.push(("train", t.elapsed()));

    let t = Instant::now();
    let scored = linker.score_compared(&data, &blocks, &compared, threshold, progress);
    drop(blocks);
    drop(compared);
    summary.candidates = scored.candidates;
    summary.matched_pairs = scored.pairs.len();
    summary.stages.push(("score", t.elapsed()));

    let t = Instant::now();
    let labels = cluster(data.len(), &scored.pairs, weight_of(threshold));
    let mut sizes = vec![0u32; data.len()];
    for &l in &labels {
        sizes[l as usize] += 1;
    }
    summary.clusters = sizes.iter().filter(|&&s| s >= 2).count();
    summary.stages.push(("cluster", t.elapsed()));

    let t = Instant::now();
    let kind = opts
        .kind
        .unwrap_or_else(|| OutputKind::from_path(&opts.output));
    write_output(opts, kind, &linker, &data, &scored.pairs, &labels).map_err(|e| {
        LinkError::Output {
            path: opts.output.clone(),
            message: e.to_string(),
        }
    })?;
    summary.stages.push(("write", t.elapsed()));
    Ok(summary)
}

/// Appends `x` with `decimals` (at most 9) digits after the point, as `{:.N}` writes it (the scaled
/// value rounded half away from zero), without the general float formatter: it runs for every
/// pair written.
fn push_fixed(out: &mut String, x: f64, decimals: u32) {
    use std::fmt::Write as _;
    let scale = 10u64.pow(decimals.min(9));
    let scaled = (x.abs() * scale as f64).round();
    if !scaled.is_finite() || scaled >= 1e18 {
        let _ = write!(out, "{x:.0$}", decimals as usize);
        return;
    }
    let v = scaled as u64;
    if x.is_sign_negative() {
        out.push('-');
    }
    let _ = write!(out, "{}.{:02$}", v / scale, v % scale, decimals as usize);
}

fn write_output(
    opts: &LinkOptions,
    kind: OutputKind,
    linker: &Linker,
    data: &Dataset,
    pairs: &[crate::model::ScoredPair],
    labels: &[u32],
) -> Result<(), csv::Error> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(&opts.output)?);
    let link = data.is_link();
    match kind {
        OutputKind::Pairs => {
            let explainer = opts
                .explanations
                .then(|| Explainer::new(&linker.model, data));
            file.write_all(if explainer.is_some() {
                b"id_l,id_r,match_probability,match_weight,explanation\n"
            } else {
                b"id_l,id_r,match_probability,match_weight\n"
            })?;
            // Rows are formatted in parallel, a batch at a time, and written in order.
            const CHUNK: usize = 8192;
            let batch = CHUNK * rayon::current_num_threads().max(1) * 2;
            for part in pairs.chunks(batch) {
                let rows: Vec<Result<Vec<u8>, csv::Error>> = part
                    .par_chunks(CHUNK)
                    .map(|chunk| {
                        let mut cw = csv::WriterBuilder::new()
                            .has_headers(false)
                            .from_writer(Vec::with_capacity(chunk.len() * 160));
                        let (mut prob, mut weight, mut expl) =
                            (String::new(), String::new(), String::new());
                        for p in chunk {
                            prob.clear();
                            weight.clear();
                            expl.clear();
                            push_fixed(&mut prob, probability(f64::from(p.weight)), 6);
                            push_fixed(&mut weight, f64::from(p.weight), 3);
                            let (id_a, id_b) = (&*data.ids[p.a as usize], &*data.ids[p.b as usize]);
                            if let Some(explainer) = &explainer {
                                explainer.write(data, p.a, p.pattern, &mut expl);
                                cw.write_record([id_a, id_b, &prob, &weight, &expl])?;
                            } else {
                                cw.write_record([id_a, id_b, &prob, &weight])?;
                            }
                        }
                        cw.into_inner()
                            .map_err(|e| csv::Error::from(e.into_error()))
                    })
                    .collect();
                for bytes in rows {
                    file.write_all(&bytes?)?;
                }
            }
        }
        OutputKind::Clusters => {
            let mut w = csv::Writer::from_writer(&mut file);
            if link {
                w.write_record(["cluster_id", "source", "id"])?;
            } else {
                w.write_record(["cluster_id", "id"])?;
            }
            for (r, l) in labels.iter().enumerate() {
                let c = l.to_string();
                if link {
                    let s = if data.sources[r] == 0 { "a" } else { "b" };
                    w.write_record([c.as_str(), s, &data.ids[r]])?;
                } else {
                    w.write_record([c.as_str(), &data.ids[r]])?;
                }
            }
            w.flush()?;
        }
    }
    file.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pairs_file_has_explanations_unless_they_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("people.csv");
        std::fs::write(
            &input,
            "id,first_name,surname\n1,Ann,Smith\n2,Ann,Smith\n3,Bob,Jones\n4,Ann,Smyth\n",
        )
        .unwrap();
        for explanations in [true, false] {
            let opts = LinkOptions {
                input: input.clone(),
                input_b: None,
                id: "id".into(),
                config: None,
                threshold: Some(0.01),
                output: dir.path().join("pairs.csv"),
                kind: None,
                explanations,
            };
            let summary = run(&opts, &crate::model::Quiet).unwrap();
            assert!(summary.matched_pairs >= 1, "{summary}");
            let text = std::fs::read_to_string(&opts.output).unwrap();
            let mut lines = text.lines();
            let header = lines.next().unwrap();
            assert_eq!(header.ends_with(",explanation"), explanations, "{header}");
            let row = lines.find(|l| l.starts_with("1,2,")).unwrap();
            assert_eq!(row.contains("first_name=exact("), explanations, "{row}");
        }
    }

    #[test]
    fn fixed_numbers_are_written_as_the_formatter_writes_them() {
        for &(x, d) in &[
            (0.999_999_7, 6),
            (1.0, 6),
            (0.5, 6),
            (72.701, 3),
            (-3.25, 3),
            (-0.0004, 3),
            (1e-12, 6),
            (123_456.789, 3),
            (4.0e20, 3),
        ] {
            let mut out = String::new();
            push_fixed(&mut out, x, d);
            assert_eq!(out, format!("{x:.0$}", d as usize), "{x} to {d}");
        }
    }
}
