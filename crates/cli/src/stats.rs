//! `lantern stats …`: counts from the statistics rollups, grouped as asked, as CSV or JSON; with
//! `--public`, through the release gate so that no count below the threshold is shown.
//! `lantern stats rebuild` recomputes a hotline's rollups from its records.
//!
//! Rollups are monthly: `--from` and `--to` select whole months (a date selects the month it falls in).
//! Bad input (an unknown group-by key or metric, a bad date) is a [`crate::common::BadInput`]: the
//! message names the flag and the command exits 2.

use crate::admin::{hotline_id, store};
use crate::common::{Global, bad_input};
use anyhow::Context as _;
use lantern_insights::gate::{self, Cell, Dimension, GateConfig, Release, Table};
use lantern_store::rollups::METRICS;
use lantern_store::{AuditCtx, RollupCell, RollupFilter};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

/// `lantern stats`: print counts, or `rebuild` them.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StatsArgs {
    #[command(subcommand)]
    command: Option<StatsCmd>,
    #[command(flatten)]
    query: QueryArgs,
}

/// `lantern stats …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum StatsCmd {
    /// Recompute a hotline's rollups from its records (once after upgrading an existing database, or
    /// to repair them).
    Rebuild {
        /// The hotline's slug.
        #[arg(long)]
        hotline: String,
    },
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A header line, then one line per group.
    Csv,
    /// One JSON document.
    Json,
}

/// Arguments of `lantern stats`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The hotline's slug.
    #[arg(long)]
    hotline: Option<String>,
    /// The first day (YYYY-MM-DD, or YYYY-MM); its whole month is included.
    #[arg(long)]
    from: Option<String>,
    /// The last day (YYYY-MM-DD, or YYYY-MM); its whole month is included.
    #[arg(long)]
    to: Option<String>,
    /// Comma-separated keys to group by: month, year, state, form, typology, channel, signaler_type,
    /// outcome, referral_status, case_status. None: one total per metric.
    #[arg(long, value_delimiter = ',')]
    group_by: Vec<String>,
    /// Comma-separated metrics (contacts, substantive_contacts, cases, case_typologies,
    /// potential_victims, referrals). Default: all.
    #[arg(long, value_delimiter = ',')]
    metric: Vec<String>,
    /// `csv` or `json`.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Publish through the release gate: counts below the threshold are shown as "fewer than N", and
    /// others withheld so that they cannot be recovered from totals. At most two group-by keys.
    #[arg(long)]
    public: bool,
    /// The gate's threshold (with `--public`).
    #[arg(long, default_value_t = 3)]
    threshold: u64,
}

/// A key `--group-by` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Year,
    Month,
    State,
    Form,
    Typology,
    Channel,
    SignalerType,
    Outcome,
    ReferralStatus,
    CaseStatus,
}

const KEYS: &[(&str, Key)] = &[
    ("year", Key::Year),
    ("month", Key::Month),
    ("state", Key::State),
    ("form", Key::Form),
    ("typology", Key::Typology),
    ("channel", Key::Channel),
    ("signaler_type", Key::SignalerType),
    ("outcome", Key::Outcome),
    ("referral_status", Key::ReferralStatus),
    ("case_status", Key::CaseStatus),
];

impl Key {
    fn parse(s: &str) -> anyhow::Result<Key> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        KEYS.iter()
            .find(|(name, _)| *name == norm)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                let names: Vec<&str> = KEYS.iter().map(|(n, _)| *n).collect();
                bad_input(format!(
                    "--group-by: unknown key `{s}`; use any of {}",
                    names.join(", ")
                ))
            })
    }

    fn name(self) -> &'static str {
        KEYS.iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .expect("every key is listed")
    }

    fn of(self, c: &RollupCell) -> String {
        let k = &c.key;
        match self {
            Key::Year => k.month.get(..4).unwrap_or("").to_owned(),
            Key::Month => k.month.clone(),
            Key::State => k.state.clone(),
            Key::Form => k.form.clone(),
            Key::Typology => k.typology.clone(),
            Key::Channel => k.channel.clone(),
            Key::SignalerType => k.signaler_type.clone(),
            Key::Outcome => k.outcome.clone(),
            Key::ReferralStatus => k.referral_status.clone(),
            Key::CaseStatus => k.case_status.clone(),
        }
    }
}

/// Parses `--from`/`--to` into a `YYYY-MM` month.
fn month_arg(flag: &str, v: &str) -> anyhow::Result<String> {
    let bad = || {
        bad_input(format!(
            "{flag}: `{v}` is not a date (use YYYY-MM-DD or YYYY-MM)"
        ))
    };
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let date = match time::Date::parse(v.trim(), &fmt) {
        Ok(d) => d,
        Err(_) => time::Date::parse(&format!("{}-01", v.trim()), &fmt).map_err(|_| bad())?,
    };
    Ok(format!("{:04}-{:02}", date.year(), u8::from(date.month())))
}

/// Rows of one metric: group values → count, in order.
type Groups = BTreeMap<Vec<String>, i64>;

fn group(cells: &[RollupCell], metric: &str, keys: &[Key]) -> Groups {
    let mut g = Groups::new();
    for c in cells.iter().filter(|c| c.key.metric == metric) {
        let k: Vec<String> = keys.iter().map(|key| key.of(c)).collect();
        *g.entry(k).or_insert(0) += c.count;
    }
    g.retain(|_, n| *n != 0);
    g
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv_line(fields: &[String]) -> String {
    let f: Vec<String> = fields.iter().map(|s| csv_field(s)).collect();
    f.join(",")
}

/// An empty code means "not recorded / not applicable": null in JSON.
fn json_code(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_owned())
    }
}

/// The gate's tables: one per metric, over the group-by keys (zero, one or two).
fn gate_tables(groups: &[(String, Groups)], keys: &[Key], universe: &str) -> Vec<Table> {
    let labels = |i: usize, g: &Groups| -> Vec<String> {
        g.keys()
            .map(|k| k[i].clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    groups
        .iter()
        .map(|(metric, g)| {
            let count = |k: &[String]| g.get(k).copied().unwrap_or(0).max(0) as u64;
            let id = metric.clone();
            let universe = format!("{metric} {universe}");
            match keys {
                [] => Table::one_way(
                    id,
                    universe,
                    Dimension::new("all", ["all"]),
                    vec![count(&[])],
                ),
                [a] => {
                    let rows = labels(0, g);
                    let counts = rows
                        .iter()
                        .map(|r| count(std::slice::from_ref(r)))
                        .collect();
                    Table::one_way(id, universe, Dimension::new(a.name(), rows), counts)
                }
                [a, b, ..] => {
                    let rows = labels(0, g);
                    let cols = labels(1, g);
                    let cells = rows
                        .iter()
                        .map(|r| {
                            cols.iter()
                                .map(|c| count(&[r.clone(), c.clone()]))
                                .collect()
                        })
                        .collect();
                    Table::two_way(
                        id,
                        universe,
                        Dimension::new(a.name(), rows),
                        Dimension::new(b.name(), cols),
                        cells,
                    )
                }
            }
        })
        .collect()
}

const TOTAL: &str = "(total)";

/// The published figures of a release as CSV lines (metric, keys…, count), totals included.
fn release_csv(release: &Release, keys: &[Key]) -> Vec<String> {
    let mut header = vec!["metric".to_owned()];
    header.extend(keys.iter().map(|k| k.name().to_owned()));
    header.push("count".into());
    let mut lines = vec![csv_line(&header)];
    let line = |metric: &str, labels: &[&str], c: &Cell| {
        let mut f = vec![metric.to_owned()];
        f.extend(labels.iter().map(|s| (*s).to_owned()));
        f.push(c.to_string());
        csv_line(&f)
    };
    for t in &release.tables {
        match (&t.cols, keys.len()) {
            (None, 0) => lines.push(line(&t.id, &[], &t.total)),
            (None, _) => {
                for (label, row) in t.rows.labels.iter().zip(&t.cells) {
                    lines.push(line(&t.id, &[label], &row[0]));
                }
                lines.push(line(&t.id, &[TOTAL], &t.total));
            }
            (Some(cols), _) => {
                for (r, label) in t.rows.labels.iter().enumerate() {
                    for (c, col) in cols.labels.iter().enumerate() {
                        lines.push(line(&t.id, &[label, col], &t.cells[r][c]));
                    }
                    lines.push(line(&t.id, &[label, TOTAL], &t.row_totals[r]));
                }
                for (c, col) in cols.labels.iter().enumerate() {
                    lines.push(line(&t.id, &[TOTAL, col], &t.col_totals[c]));
                }
                lines.push(line(&t.id, &[TOTAL, TOTAL], &t.total));
            }
        }
    }
    lines
}

/// `lantern stats …`
pub async fn run(g: &Global, args: StatsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(StatsCmd::Rebuild { hotline }) => {
            let store = store(g).await?;
            let h = hotline_id(&*store, &hotline).await?;
            let n = store
                .rebuild_rollups(&AuditCtx::cli(Some(h.clone())), &h)
                .await
                .context("rebuilding the rollups")?;
            println!("rebuilt the rollups of `{hotline}`: {n} cells");
            Ok(ExitCode::SUCCESS)
        }
        None => query(g, args.query).await,
    }
}

async fn query(g: &Global, a: QueryArgs) -> anyhow::Result<ExitCode> {
    // Every flag is checked before the database is opened.
    let slug = a
        .hotline
        .as_deref()
        .ok_or_else(|| bad_input("--hotline: which hotline? (its slug)"))?;
    let from = a
        .from
        .as_deref()
        .map(|v| month_arg("--from", v))
        .transpose()?;
    let to = a.to.as_deref().map(|v| month_arg("--to", v)).transpose()?;
    if let (Some(f), Some(t)) = (&from, &to)
        && f > t
    {
        return Err(bad_input(format!("--to: {t} is before --from {f}")));
    }
    let mut keys = Vec::new();
    for k in a.group_by.iter().filter(|k| !k.trim().is_empty()) {
        let key = Key::parse(k)?;
        if keys.contains(&key) {
            return Err(bad_input(format!("--group-by: `{k}` is given twice")));
        }
        keys.push(key);
    }
    let mut metrics = Vec::new();
    for m in a.metric.iter().filter(|m| !m.trim().is_empty()) {
        let m = m.trim();
        if !METRICS.contains(&m) {
            return Err(bad_input(format!(
                "--metric: unknown metric `{m}`; use any of {}",
                METRICS.join(", ")
            )));
        }
        metrics.push(m.to_owned());
    }
    if metrics.is_empty() {
        metrics = METRICS.iter().map(|m| (*m).to_owned()).collect();
    }
    let config = if a.public {
        if keys.len() > 2 {
            return Err(bad_input(
                "--group-by: a --public table has at most two keys (the gate protects one- and two-way tables)",
            ));
        }
        Some(
            GateConfig::with_threshold(a.threshold)
                .map_err(|e| bad_input(format!("--threshold: {e}")))?,
        )
    } else {
        None
    };

    let store = store(g).await?;
    let h = hotline_id(&*store, slug).await?;
    let filter = RollupFilter {
        metric: (metrics.len() == 1).then(|| metrics[0].clone()),
        from_month: from.clone(),
        to_month: to.clone(),
    };
    let cells = store.rollups(&h, &filter).await?;
    let groups: Vec<(String, Groups)> = metrics
        .iter()
        .map(|m| (m.clone(), group(&cells, m, &keys)))
        .collect();
    let period = format!(
        "{}..{}",
        from.as_deref().unwrap_or(""),
        to.as_deref().unwrap_or("")
    );

    let out = if let Some(config) = config {
        let tables = gate_tables(&groups, &keys, &period);
        let release = gate::publish(&tables, &config).context("the release gate refused")?;
        store
            .audit(
                &AuditCtx::cli(Some(h.clone())),
                "stats.release",
                "hotline",
                Some(&h),
                json!({"metrics": metrics, "group_by": keys.iter().map(|k| k.name()).collect::<Vec<_>>(),
                       "from": from, "to": to, "threshold": config.threshold}),
            )
            .await?;
        match a.format {
            Format::Csv => release_csv(&release, &keys).join("\n") + "\n",
            Format::Json => serde_json::to_string_pretty(&release)? + "\n",
        }
    } else {
        match a.format {
            Format::Csv => {
                let mut header = vec!["metric".to_owned()];
                header.extend(keys.iter().map(|k| k.name().to_owned()));
                header.push("count".into());
                let mut lines = vec![csv_line(&header)];
                for (metric, g) in &groups {
                    if keys.is_empty() && g.is_empty() {
                        lines.push(csv_line(&[metric.clone(), "0".into()]));
                    }
                    for (k, n) in g {
                        let mut f = vec![metric.clone()];
                        f.extend(k.iter().cloned());
                        f.push(n.to_string());
                        lines.push(csv_line(&f));
                    }
                }
                lines.join("\n") + "\n"
            }
            Format::Json => {
                let rows: Vec<Value> = groups
                    .iter()
                    .flat_map(|(metric, g)| {
                        let mut rows: Vec<Value> = g
                            .iter()
                            .map(|(k, n)| {
                                let mut o = serde_json::Map::new();
                                o.insert("metric".into(), json!(metric));
                                for (key, v) in keys.iter().zip(k) {
                                    o.insert(key.name().into(), json_code(v));
                                }
                                o.insert("count".into(), json!(n));
                                Value::Object(o)
                            })
                            .collect();
                        if keys.is_empty() && rows.is_empty() {
                            rows.push(json!({"metric": metric, "count": 0}));
                        }
                        rows
                    })
                    .collect();
                let doc = json!({
                    "hotline": slug,
                    "from": from,
                    "to": to,
                    "group_by": keys.iter().map(|k| k.name()).collect::<Vec<_>>(),
                    "rows": rows,
                });
                serde_json::to_string_pretty(&doc)? + "\n"
            }
        }
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_months_select_their_month_and_bad_ones_name_the_flag() {
        assert_eq!(month_arg("--from", "2025-03-17").unwrap(), "2025-03");
        assert_eq!(month_arg("--to", "2025-12").unwrap(), "2025-12");
        let e = month_arg("--from", "2025-13-01").unwrap_err().to_string();
        assert!(e.contains("--from"), "{e}");
        assert!(month_arg("--to", "March").is_err());
    }

    #[test]
    fn group_by_keys_accept_hyphens_and_unknown_keys_name_the_flag() {
        assert_eq!(Key::parse("signaler-type").unwrap(), Key::SignalerType);
        let e = Key::parse("venue").unwrap_err().to_string();
        assert!(e.contains("--group-by") && e.contains("venue"), "{e}");
    }
}
