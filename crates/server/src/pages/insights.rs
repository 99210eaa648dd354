//! The analysts' and supervisors' dashboard: headline figures, the trend by month, contacts by channel,
//! cases by state on the US map, each with "view as table" and a CSV download. Reads the rollups only
//! (never a record), so it costs the same however long the hotline's history.

use super::{Chrome, PageResult, render};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use lantern_domain::codes::UsState;
use lantern_insights::svg::{self, Chart, Choropleth, Datum, Series};
use lantern_store::rollups::{METRIC_CASES, METRIC_CONTACTS, METRIC_REFERRALS};
use lantern_store::{RollupCell, RollupFilter};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The dashboard's period, as `YYYY-MM` months (inclusive).
#[derive(Debug, Default, Deserialize)]
pub struct Period {
    /// First month.
    #[serde(default)]
    from: Option<String>,
    /// Last month.
    #[serde(default)]
    to: Option<String>,
}

/// A `YYYY-MM` month parameter, or a 422 naming `field`.
pub(crate) fn month(field: &str, v: &Option<String>) -> Result<Option<String>, AppError> {
    let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let ok = v.len() == 7
        && v.as_bytes()[4] == b'-'
        && v[..4].bytes().all(|b| b.is_ascii_digit())
        && matches!(v[5..].parse::<u8>(), Ok(1..=12));
    if ok {
        Ok(Some(v.to_owned()))
    } else {
        Err(AppError::invalid(
            field,
            format!("`{v}` is not a month (YYYY-MM)"),
        ))
    }
}

/// One chart of the page, drawn and tabulated.
#[derive(Debug)]
pub struct Figure {
    id: &'static str,
    title: String,
    svg: String,
    table: String,
}

/// A headline figure.
#[derive(Debug)]
pub struct Headline {
    label: &'static str,
    value: i64,
}

#[derive(Template)]
#[template(path = "insights.html")]
struct InsightsPage {
    chrome: Option<Chrome>,
    from: String,
    to: String,
    query: String,
    headlines: Vec<Headline>,
    figures: Vec<Figure>,
}

fn sum_by(
    cells: &[RollupCell],
    metric: &str,
    key: impl Fn(&RollupCell) -> String,
) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for c in cells.iter().filter(|c| c.key.metric == metric) {
        *m.entry(key(c)).or_insert(0) += c.count;
    }
    m
}

fn total(cells: &[RollupCell], metric: &str) -> i64 {
    cells
        .iter()
        .filter(|c| c.key.metric == metric)
        .map(|c| c.count)
        .sum()
}

fn bar(id: &str, title: &str, category: &str, value: &str, counts: BTreeMap<String, i64>) -> Chart {
    let (categories, values): (Vec<String>, Vec<Datum>) = counts
        .into_iter()
        .map(|(k, v)| {
            let label = if k.is_empty() {
                "not recorded".to_owned()
            } else {
                k.replace('_', " ")
            };
            (label, Datum::Number(v as f64))
        })
        .unzip();
    Chart {
        id: id.into(),
        title: title.into(),
        description: format!("{value} by {}.", category.to_lowercase()),
        category_label: category.into(),
        value_label: value.into(),
        categories,
        series: vec![Series {
            name: value.into(),
            values,
        }],
    }
}

/// The charts of the dashboard, each as (id, chart, drawn SVG).
fn charts(cells: &[RollupCell]) -> Vec<(&'static str, Chart, String)> {
    let by_month = bar(
        "trend",
        "Contacts and cases by month",
        "Month",
        "Contacts",
        sum_by(cells, METRIC_CONTACTS, |c| c.key.month.clone()),
    );
    let cases_by_month = sum_by(cells, METRIC_CASES, |c| c.key.month.clone());
    let mut trend = by_month;
    trend.series.push(Series {
        name: "Cases".into(),
        values: trend
            .categories
            .iter()
            .map(|m| Datum::Number(*cases_by_month.get(m).unwrap_or(&0) as f64))
            .collect(),
    });
    trend.description = "Contacts and cases opened, by month.".into();
    let trend_svg = svg::line_chart(&trend);
    let channel = bar(
        "channel",
        "Contacts by channel",
        "Channel",
        "Contacts",
        sum_by(cells, METRIC_CONTACTS, |c| c.key.channel.clone()),
    );
    let channel_svg = svg::bar_chart(&channel);
    let signaler = bar(
        "signaler",
        "Contacts by signaler type",
        "Signaler type",
        "Contacts",
        sum_by(cells, METRIC_CONTACTS, |c| c.key.signaler_type.clone()),
    );
    let signaler_svg = svg::bar_chart(&signaler);
    let form = bar(
        "form",
        "Cases by form",
        "Form",
        "Cases",
        sum_by(cells, METRIC_CASES, |c| c.key.form.clone()),
    );
    let form_svg = svg::bar_chart(&form);
    let by_state = sum_by(cells, METRIC_CASES, |c| c.key.state.clone());
    let map = Choropleth {
        id: "states".into(),
        title: "Cases by state".into(),
        description: "Cases opened in each state; states without cases are drawn as no data."
            .into(),
        value_label: "Cases".into(),
        values: by_state
            .iter()
            .filter_map(|(s, n)| {
                UsState::parse_usps(s)
                    .ok()
                    .map(|st| (st, Datum::Number(*n as f64)))
            })
            .collect(),
    };
    let map_svg = svg::choropleth(&map);
    vec![
        ("trend", trend, trend_svg),
        ("states", map.as_chart(), map_svg),
        ("channel", channel, channel_svg),
        ("signaler", signaler, signaler_svg),
        ("form", form, form_svg),
    ]
}

async fn cells(
    state: &AppState,
    p: &Principal,
    period: &Period,
) -> Result<(Option<String>, Option<String>, Vec<RollupCell>), AppError> {
    let from = month("from", &period.from)?;
    let to = month("to", &period.to)?;
    let filter = RollupFilter {
        metric: None,
        from_month: from.clone(),
        to_month: to.clone(),
    };
    let cells = state.store.rollups(&p.user.hotline_id, &filter).await?;
    Ok((from, to, cells))
}

/// `GET /insights`: the dashboard.
pub async fn show(
    State(state): State<AppState>,
    p: Principal,
    Query(period): Query<Period>,
) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/insights").await?;
    let (from, to, cells) = cells(&state, &p, &period).await?;
    let headlines = vec![
        Headline {
            label: "Contacts",
            value: total(&cells, METRIC_CONTACTS),
        },
        Headline {
            label: "Substantive signals",
            value: total(&cells, lantern_store::rollups::METRIC_SUBSTANTIVE),
        },
        Headline {
            label: "Cases",
            value: total(&cells, METRIC_CASES),
        },
        Headline {
            label: "Potential victims",
            value: total(&cells, lantern_store::rollups::METRIC_POTENTIAL_VICTIMS),
        },
        Headline {
            label: "Referrals",
            value: total(&cells, METRIC_REFERRALS),
        },
    ];
    let figures = charts(&cells)
        .into_iter()
        .map(|(id, chart, svg)| Figure {
            id,
            title: chart.title.clone(),
            table: svg::html_table(&chart),
            svg,
        })
        .collect();
    let query = serde_urlencoded::to_string([
        ("from", from.clone().unwrap_or_default()),
        ("to", to.clone().unwrap_or_default()),
    ])
    .unwrap_or_default();
    render(&InsightsPage {
        chrome: Some(chrome),
        from: from.unwrap_or_default(),
        to: to.unwrap_or_default(),
        query,
        headlines,
        figures,
    })
}

/// `GET /insights/{chart}`: one chart's data as CSV (`trend.csv`, `states.csv`, …).
pub async fn csv(
    State(state): State<AppState>,
    p: Principal,
    Path(file): Path<String>,
    Query(period): Query<Period>,
) -> PageResult {
    let (_, _, cells) = cells(&state, &p, &period).await?;
    let id = file.strip_suffix(".csv").unwrap_or(&file);
    let chart = charts(&cells)
        .into_iter()
        .find(|(cid, _, _)| *cid == id)
        .map(|(_, chart, _)| chart)
        .ok_or_else(|| {
            AppError::new(
                axum::http::StatusCode::NOT_FOUND,
                "Not found",
                format!("no chart `{id}`"),
            )
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.csv\""),
            ),
        ],
        svg::csv(&chart),
    )
        .into_response())
}
