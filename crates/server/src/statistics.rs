//! Public statistics: one release of the release gate per published year, from the rollups.
//!
//! # One release per year, every page a view of it
//! A visitor can download the national page and every state's page of a year, and subtract one from
//! another. So the tables behind all of them are **one release**: cross-tabulations by state ×
//! category (cases by form, cases by primary venue or industry, signals by signaler type), whose rows
//! are the state pages, whose column totals and grand total are the national page, and whose row
//! totals are the national table of states. The gate protects every hidden figure against all the
//! equations between them (a state's total is the sum of its row; a national figure is the sum of
//! its column; two tables of one universe share the state totals and the grand total), so nothing a
//! page hides can be worked out from any other page of the same year. Different years count
//! different records (different universes): no equation links them.
//!
//! Records with no state form the row `unknown`, shown on the national page, so that every figure
//! of the release is downloadable and the national totals count every record.
//!
//! Categories: the four case forms; the five venues or industries and the five signaler types most
//! frequent nationally that year, the rest as `other` (fewer columns keep every state's row
//! publishable and the gate's linear programs small).
//!
//! Releases are cached per hotline and year, and recomputed only when the rollups behind them
//! changed.

use crate::error::AppError;
use crate::state::AppState;
use lantern_domain::codes::{CaseForm, SignalerType, Typology, UsState};
use lantern_insights::gate::{self, Dimension, GateConfig, Release, Table};
use lantern_store::rollups::{METRIC_CASES, METRIC_SUBSTANTIVE};
use lantern_store::{AuditCtx, RollupCell, RollupFilter};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// The row of records with no state.
pub const UNKNOWN_STATE: &str = "unknown";
/// The column of the categories outside the top five.
pub const OTHER: &str = "other";
/// How many venues or signaler types are shown by name.
const TOP: usize = 5;

/// The tables of a release: identifier, title, and the readable name of its column dimension.
pub const TABLES: &[(&str, &str, &str)] = &[
    ("cases_by_form", "Cases by form of trafficking", "Form"),
    (
        "cases_by_venue",
        "Cases by venue or industry (primary typology)",
        "Venue or industry",
    ),
    (
        "signals_by_signaler",
        "Substantive signals by who reached out",
        "Signaler type",
    ),
];

/// The readable label of a category code of a table's columns.
pub fn category_label(table: &str, code: &str) -> String {
    if code == OTHER {
        return "All others".into();
    }
    let known = match table {
        "cases_by_form" => code.parse::<CaseForm>().ok().map(|v| v.label()),
        "cases_by_venue" => code.parse::<Typology>().ok().map(|v| v.label()),
        "signals_by_signaler" => code.parse::<SignalerType>().ok().map(|v| v.label()),
        _ => None,
    };
    known.map_or_else(|| code.replace('_', " "), str::to_owned)
}

/// The readable name of a row (a state, or `unknown`).
pub fn place_label(code: &str) -> String {
    match UsState::parse_usps(code) {
        Ok(s) => s.label().to_owned(),
        Err(_) => "Location not recorded".into(),
    }
}

fn row_of(state: &str) -> String {
    match UsState::parse_usps(state) {
        Ok(s) => s.code().to_owned(),
        Err(_) => UNKNOWN_STATE.to_owned(),
    }
}

/// Sums of one metric by (row, category).
type Grid = BTreeMap<(String, String), u64>;

fn grid(cells: &[RollupCell], metric: &str, col: impl Fn(&RollupCell) -> String) -> Grid {
    let mut g: BTreeMap<(String, String), i64> = BTreeMap::new();
    for c in cells.iter().filter(|c| c.key.metric == metric) {
        *g.entry((row_of(&c.key.state), col(c))).or_insert(0) += c.count;
    }
    g.into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k, n as u64))
        .collect()
}

/// Keeps the `TOP` most frequent categories (ties by code) and folds the rest into [`OTHER`].
fn fold_top(g: Grid) -> (Grid, Vec<String>) {
    let mut national: BTreeMap<String, u64> = BTreeMap::new();
    for ((_, c), n) in &g {
        *national.entry(c.clone()).or_default() += n;
    }
    let mut ranked: Vec<(String, u64)> = national.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<String> = ranked
        .iter()
        .filter(|(c, _)| c != OTHER)
        .take(TOP)
        .map(|(c, _)| c.clone())
        .collect();
    let folded_any = ranked.iter().any(|(c, _)| !top.contains(c));
    let mut out = Grid::new();
    for ((r, c), n) in g {
        let c = if top.contains(&c) {
            c
        } else {
            OTHER.to_owned()
        };
        *out.entry((r, c)).or_default() += n;
    }
    let mut cols = top;
    if folded_any {
        cols.push(OTHER.to_owned());
    }
    (out, cols)
}

fn table(id: &str, universe: &str, g: &Grid, rows: &[String], cols: Vec<String>) -> Table {
    let cells = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| g.get(&(r.clone(), c.clone())).copied().unwrap_or(0))
                .collect()
        })
        .collect();
    let col_dim = match id {
        "cases_by_form" => "form",
        "cases_by_venue" => "venue",
        _ => "signaler_type",
    };
    Table::two_way(
        id,
        universe,
        Dimension::new("state", rows.iter().cloned()),
        Dimension::new(col_dim, cols),
        cells,
    )
}

/// The gate's input tables of one year, from that year's rollup cells (see the module's doc).
pub fn year_tables(cells: &[RollupCell], year: i32) -> Vec<Table> {
    let form = grid(cells, METRIC_CASES, |c| c.key.form.clone());
    let venue = grid(cells, METRIC_CASES, |c| {
        if c.key.typology.is_empty() {
            Typology::Unknown.code().to_owned()
        } else {
            c.key.typology.clone()
        }
    });
    let (venue, venue_cols) = fold_top(venue);
    let signaler = grid(cells, METRIC_SUBSTANTIVE, |c| {
        if c.key.signaler_type.is_empty() {
            "not_recorded".to_owned()
        } else {
            c.key.signaler_type.clone()
        }
    });
    let (signaler, signaler_cols) = fold_top(signaler);
    let rows_of = |g: &Grid| -> Vec<String> {
        let present: BTreeSet<&String> = g.keys().map(|(r, _)| r).collect();
        present.into_iter().cloned().collect()
    };
    let case_rows = rows_of(&form);
    let mut form_cols: Vec<String> = CaseForm::ALL
        .iter()
        .map(|f| f.code().to_owned())
        .filter(|f| form.keys().any(|(_, c)| c == f))
        .collect();
    for (_, c) in form.keys() {
        if !form_cols.contains(c) {
            form_cols.push(c.clone());
        }
    }
    let cases = format!("cases {year}");
    let signals = format!("substantive signals {year}");
    let mut out = Vec::new();
    if !case_rows.is_empty() {
        out.push(table("cases_by_form", &cases, &form, &case_rows, form_cols));
        out.push(table(
            "cases_by_venue",
            &cases,
            &venue,
            &case_rows,
            venue_cols,
        ));
    }
    let signal_rows = rows_of(&signaler);
    if !signal_rows.is_empty() {
        out.push(table(
            "signals_by_signaler",
            &signals,
            &signaler,
            &signal_rows,
            signaler_cols,
        ));
    }
    out
}

struct Cached {
    input: Vec<Table>,
    release: Arc<Release>,
}

/// Releases by (hotline, year, threshold).
type Cache = Mutex<HashMap<(String, i32, u64), Cached>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The published hotline's id and the gate's settings, or a 404 when this server publishes none.
pub async fn published(state: &AppState) -> Result<(String, GateConfig), AppError> {
    let s = &state.settings.statistics;
    let none = || AppError::not_found("public statistics (none are published on this server)");
    if s.hotline.is_empty() {
        return Err(none());
    }
    let h = state
        .store
        .hotline_by_slug(&s.hotline)
        .await?
        .ok_or_else(none)?;
    let config = GateConfig::with_threshold(s.threshold)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("statistics.threshold: {e}")))?;
    Ok((h.id, config))
}

/// The years with any record, newest first.
pub async fn years(state: &AppState, hotline_id: &str) -> Result<Vec<i32>, AppError> {
    let cells = state
        .store
        .rollups(hotline_id, &RollupFilter::default())
        .await?;
    let years: BTreeSet<i32> = cells
        .iter()
        .filter(|c| c.key.metric == METRIC_CASES || c.key.metric == METRIC_SUBSTANTIVE)
        .filter_map(|c| c.key.month.get(..4)?.parse().ok())
        .collect();
    Ok(years.into_iter().rev().collect())
}

/// The release of one year (computed through the gate, or from the cache when the rollups behind it
/// have not changed). A year with no record is an empty release.
pub async fn release(
    state: &AppState,
    hotline_id: &str,
    config: &GateConfig,
    year: i32,
) -> Result<Arc<Release>, AppError> {
    let filter = RollupFilter {
        metric: None,
        from_month: Some(format!("{year:04}-01")),
        to_month: Some(format!("{year:04}-12")),
    };
    let cells = state.store.rollups(hotline_id, &filter).await?;
    let input = year_tables(&cells, year);
    let key = (hotline_id.to_owned(), year, config.threshold);
    if let Some(c) = cache().lock().expect("cache lock").get(&key)
        && c.input == input
    {
        return Ok(c.release.clone());
    }
    let config = *config;
    let tables = input.clone();
    let published = tokio::task::spawn_blocking(move || gate::publish(&tables, &config))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the release gate panicked: {e}")))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the release gate refused: {e}")))?;
    let release = Arc::new(published);
    state
        .store
        .audit(
            &AuditCtx::system(Some(hotline_id.to_owned())),
            "statistics.release",
            "hotline",
            Some(hotline_id),
            serde_json::json!({"year": year, "threshold": config.threshold,
                "tables": input.iter().map(|t| t.id.clone()).collect::<Vec<_>>()}),
        )
        .await?;
    cache().lock().expect("cache lock").insert(
        key,
        Cached {
            input,
            release: release.clone(),
        },
    );
    Ok(release)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_store::rollups::CellKey;

    fn cell(metric: &str, state: &str, form: &str, typology: &str, n: i64) -> RollupCell {
        RollupCell {
            key: CellKey {
                metric: metric.into(),
                month: "2025-04".into(),
                state: state.into(),
                form: form.into(),
                typology: typology.into(),
                ..CellKey::default()
            },
            count: n,
        }
    }

    #[test]
    fn the_tables_of_a_year_share_states_and_fold_rare_venues_into_other() {
        let mut cells = Vec::new();
        for (i, t) in [
            "escort_services",
            "domestic_work",
            "construction",
            "residential",
            "pornography",
            "landscaping",
            "carnivals",
        ]
        .iter()
        .enumerate()
        {
            cells.push(cell(METRIC_CASES, "TX", "sex", t, 10 - i as i64));
        }
        cells.push(cell(METRIC_CASES, "", "labor", "", 4));
        let t = year_tables(&cells, 2025);
        assert_eq!(t.len(), 2, "no signals: no signal table");
        assert_eq!(t[0].rows.labels, ["TX", UNKNOWN_STATE]);
        assert_eq!(t[0].cols.as_ref().unwrap().labels, ["sex", "labor"]);
        let venue_cols = &t[1].cols.as_ref().unwrap().labels;
        assert_eq!(venue_cols.len(), TOP + 1);
        assert_eq!(venue_cols[0], "escort_services");
        assert_eq!(venue_cols[TOP], OTHER);
        // Landscaping (5) and carnivals (4) are folded: 9 in TX; the unknown state's 4 have no venue.
        let tx_other = t[1].cells[0][TOP];
        assert_eq!(tx_other, 5 + 4);
        let sum = |t: &Table| t.cells.iter().flatten().sum::<u64>();
        assert_eq!(sum(&t[0]), sum(&t[1]));
        let release = gate::publish(&t, &GateConfig::default()).unwrap();
        assert!(gate::attack(&release).breaches(&release.config).is_empty());
    }
}
