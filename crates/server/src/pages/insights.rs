//! The analysts' and supervisors' dashboard: headline figures, the trend by month, contacts by channel
//! and signaler type, cases by form, and the US map of cases per 100,000 residents with its table,
//! each with "view as table" and a CSV download; filters for months, state and form; and a page per
//! state (`/insights/states/{USPS}`) with that state's figures and a CSV of all of them. Asks the
//! hotline's figures held in memory ([`crate::dashboard`], the same as the summary API), never a record
//! nor the database's cells, so it costs the same however long the hotline's history.

use super::{Chrome, PageResult, render};
use crate::auth::Principal;
use crate::error::{AppError, FieldError, Problem};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lantern_domain::codes::{CaseForm, SignalerType, Typology, UsState};
use lantern_insights::cube::{Dim, Figures, Question};
use lantern_insights::geo::{POPULATION_SOURCE, per_100k};
use lantern_insights::svg::{self, Chart, Choropleth, Datum, Series};
use lantern_store::rollups::{
    METRIC_CASES, METRIC_CONTACTS, METRIC_POTENTIAL_VICTIMS, METRIC_REFERRALS, METRIC_SUBSTANTIVE,
};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The dashboard's filters, as sent in the query string (every one optional).
#[derive(Debug, Default, Deserialize)]
pub struct FilterQuery {
    /// First month, `YYYY-MM`.
    #[serde(default)]
    from: Option<String>,
    /// Last month, `YYYY-MM`.
    #[serde(default)]
    to: Option<String>,
    /// A USPS state code.
    #[serde(default)]
    state: Option<String>,
    /// A case form code.
    #[serde(default)]
    form: Option<String>,
}

/// The filters once checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filters {
    pub from: Option<String>,
    pub to: Option<String>,
    pub state: Option<UsState>,
    pub form: Option<CaseForm>,
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

/// A 400 naming the query parameter that is wrong.
pub(crate) fn bad_filter(field: &str, message: String) -> AppError {
    AppError::Problem(Box::new(Problem {
        status: StatusCode::BAD_REQUEST,
        title: "Invalid filter",
        detail: format!("{field}: {message}"),
        errors: vec![FieldError {
            field: field.into(),
            message,
        }],
    }))
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl FilterQuery {
    /// Checks every filter; the first bad one is a 400 naming it.
    pub(crate) fn check(&self) -> Result<Filters, AppError> {
        let m = |field: &str, v: &Option<String>| {
            month(field, v).map_err(|e| match e {
                AppError::Problem(p) => bad_filter(
                    field,
                    p.errors
                        .first()
                        .map(|e| e.message.clone())
                        .unwrap_or_default(),
                ),
                other => other,
            })
        };
        let from = m("from", &self.from)?;
        let to = m("to", &self.to)?;
        if let (Some(f), Some(t)) = (&from, &to)
            && f > t
        {
            return Err(bad_filter(
                "to",
                format!("{t} is before the first month {f}"),
            ));
        }
        let state = blank(&self.state)
            .map(|s| {
                UsState::parse_usps(s)
                    .map_err(|_| bad_filter("state", format!("`{s}` is not a USPS state code")))
            })
            .transpose()?;
        let form = blank(&self.form)
            .map(|f| {
                f.parse::<CaseForm>().map_err(|_| {
                    bad_filter(
                        "form",
                        format!(
                            "`{f}` is not a case form; use one of {}",
                            CaseForm::ALL
                                .iter()
                                .map(|c| c.code())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })
            })
            .transpose()?;
        Ok(Filters {
            from,
            to,
            state,
            form,
        })
    }
}

impl Filters {
    /// The filters as a query string (without `?`), leaving out the state when `with_state` is false.
    fn query(&self, with_state: bool) -> String {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(f) = &self.from {
            q.push(("from", f.clone()));
        }
        if let Some(t) = &self.to {
            q.push(("to", t.clone()));
        }
        if with_state && let Some(s) = self.state {
            q.push(("state", s.code().into()));
        }
        if let Some(f) = self.form {
            q.push(("form", f.code().into()));
        }
        serde_urlencoded::to_string(q).unwrap_or_default()
    }
}

/// The figures a page shows, asked of the hotline's figures in memory under the filters.
struct View<'a> {
    figures: &'a Figures,
    filters: &'a Filters,
    /// The figures are behind the latest write (they catch up in the background).
    stale: bool,
}

impl View<'_> {
    /// One metric's counts by `group_by` (one row keyed `""` without), zero groups left out. Contacts
    /// carry no form: the form filter leaves them all in (the page says so).
    fn by(&self, metric: &str, group_by: Option<Dim>) -> BTreeMap<String, i64> {
        let f = self.filters;
        let q = Question {
            from: f.from.clone(),
            to: f.to.clone(),
            state: f.state.map(|s| s.code().to_owned()),
            form: f
                .form
                .filter(|_| crate::dashboard::metric(metric).is_some_and(|m| m.keyed_by(Dim::Form)))
                .map(|c| c.code().to_owned()),
            group_by,
        };
        self.figures
            .answer_only(&q, &[metric])
            .column(metric)
            .unwrap_or_default()
    }

    fn total(&self, metric: &str) -> i64 {
        self.by(metric, None).values().sum()
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

/// One row of the table beside the map.
#[derive(Debug)]
pub struct StateRow {
    code: &'static str,
    name: &'static str,
    cases: i64,
    per_100k: String,
}

/// A choice of a filter's select box.
#[derive(Debug)]
pub struct Choice {
    code: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "insights.html")]
struct InsightsPage {
    chrome: Option<Chrome>,
    from: String,
    to: String,
    states: Vec<Choice>,
    forms: Vec<Choice>,
    form_note: bool,
    query: String,
    headlines: Vec<Headline>,
    stale: bool,
    map: Figure,
    state_rows: Vec<StateRow>,
    population_source: &'static str,
    figures: Vec<Figure>,
}

#[derive(Template)]
#[template(path = "insights_state.html")]
struct StatePage {
    chrome: Option<Chrome>,
    code: &'static str,
    name: &'static str,
    from: String,
    to: String,
    forms: Vec<Choice>,
    form_note: bool,
    query: String,
    back_query: String,
    headlines: Vec<Headline>,
    stale: bool,
    per_100k: String,
    population_source: &'static str,
    figures: Vec<Figure>,
}

fn headlines(v: &View<'_>) -> Vec<Headline> {
    [
        ("Contacts", METRIC_CONTACTS),
        ("Substantive signals", METRIC_SUBSTANTIVE),
        ("Cases", METRIC_CASES),
        ("Potential victims", METRIC_POTENTIAL_VICTIMS),
        ("Referrals", METRIC_REFERRALS),
    ]
    .into_iter()
    .map(|(label, metric)| Headline {
        label,
        value: v.total(metric),
    })
    .collect()
}

/// The readable label of a code of `kind` (`""` is "not recorded").
fn label_of(kind: &str, code: &str) -> String {
    if code.is_empty() {
        return "not recorded".into();
    }
    let known = match kind {
        "form" => code.parse::<CaseForm>().ok().map(|v| v.label()),
        "typology" => code.parse::<Typology>().ok().map(|v| v.label()),
        "signaler" => code.parse::<SignalerType>().ok().map(|v| v.label()),
        "channel" => code
            .parse::<lantern_domain::codes::Channel>()
            .ok()
            .map(|v| v.label()),
        "referral_status" => code
            .parse::<lantern_domain::codes::ReferralStatus>()
            .ok()
            .map(|v| v.label()),
        _ => None,
    };
    known.map_or_else(|| code.replace('_', " "), str::to_owned)
}

fn bar(
    id: &str,
    title: &str,
    category: &str,
    kind: &str,
    value: &str,
    counts: BTreeMap<String, i64>,
) -> Chart {
    let (categories, values): (Vec<String>, Vec<Datum>) = counts
        .into_iter()
        .map(|(k, v)| (label_of(kind, &k), Datum::Number(v as f64)))
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

/// The trend of contacts and cases by month.
fn trend(v: &View<'_>) -> Chart {
    let mut months = v.by(METRIC_CONTACTS, Some(Dim::Month));
    let cases_by_month = v.by(METRIC_CASES, Some(Dim::Month));
    for m in cases_by_month.keys() {
        months.entry(m.clone()).or_insert(0);
    }
    let mut t = bar(
        "trend",
        "Contacts and cases by month",
        "Month",
        "month",
        "Contacts",
        months,
    );
    t.series.push(Series {
        name: "Cases".into(),
        values: t
            .categories
            .iter()
            .map(|m| Datum::Number(*cases_by_month.get(m).unwrap_or(&0) as f64))
            .collect(),
    });
    t.description = "Contacts and cases opened, by month.".into();
    t
}

/// The breakdowns shared by the dashboard and the state pages, each as (id, chart, drawn SVG).
fn breakdowns(v: &View<'_>) -> Vec<(&'static str, Chart, String)> {
    let trend = trend(v);
    let trend_svg = svg::line_chart(&trend);
    let channel = bar(
        "channel",
        "Contacts by channel",
        "Channel",
        "channel",
        "Contacts",
        v.by(METRIC_CONTACTS, Some(Dim::Channel)),
    );
    let signaler = bar(
        "signaler",
        "Contacts by signaler type",
        "Signaler type",
        "signaler",
        "Contacts",
        v.by(METRIC_CONTACTS, Some(Dim::SignalerType)),
    );
    let form = bar(
        "form",
        "Cases by form",
        "Form",
        "form",
        "Cases",
        v.by(METRIC_CASES, Some(Dim::Form)),
    );
    let typology = bar(
        "typology",
        "Cases by venue or industry (primary typology)",
        "Venue or industry",
        "typology",
        "Cases",
        v.by(METRIC_CASES, Some(Dim::Typology)),
    );
    let referrals = bar(
        "referrals",
        "Referrals by status",
        "Status",
        "referral_status",
        "Referrals",
        v.by(METRIC_REFERRALS, Some(Dim::ReferralStatus)),
    );
    vec![
        ("trend", trend.clone(), trend_svg),
        ("channel", channel.clone(), svg::bar_chart(&channel)),
        ("signaler", signaler.clone(), svg::bar_chart(&signaler)),
        ("form", form.clone(), svg::bar_chart(&form)),
        ("typology", typology.clone(), svg::bar_chart(&typology)),
        ("referrals", referrals.clone(), svg::bar_chart(&referrals)),
    ]
}

fn cases_by_state(v: &View<'_>) -> BTreeMap<UsState, i64> {
    let mut m = BTreeMap::new();
    for (s, n) in v.by(METRIC_CASES, Some(Dim::State)) {
        if let Ok(st) = UsState::parse_usps(&s) {
            m.insert(st, n);
        }
    }
    m
}

fn rate(v: f64) -> String {
    format!("{v:.2}")
}

/// The map of cases per 100,000 residents, and the same data as a chart of two series (cases and
/// the rate) for its table and CSV.
fn state_map(v: &View<'_>, query: &str) -> (Chart, String) {
    let by_state = cases_by_state(v);
    let map = Choropleth {
        id: "states".into(),
        title: "Cases per 100,000 residents, by state".into(),
        description: format!(
            "Cases opened in each state per 100,000 residents ({POPULATION_SOURCE}); states without cases are drawn as no data. Each state links to its page."
        ),
        value_label: "Cases per 100,000 residents".into(),
        hidden_label: "not shown (small or withheld)".into(),
        values: by_state
            .iter()
            .map(|(s, n)| {
                (
                    *s,
                    Datum::Number((per_100k(*s, (*n).max(0) as u64) * 100.0).round() / 100.0),
                )
            })
            .collect(),
    };
    let suffix = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let drawn = svg::choropleth_linked(&map, &|s| format!("/insights/states/{}{suffix}", s.code()));
    let mut chart = map.as_chart();
    chart.category_label = "State".into();
    chart.series.insert(
        0,
        Series {
            name: "Cases".into(),
            values: UsState::ALL
                .iter()
                .map(|s| Datum::Number(*by_state.get(s).unwrap_or(&0) as f64))
                .collect(),
        },
    );
    chart.series[1].values = UsState::ALL
        .iter()
        .map(|s| {
            let n = (*by_state.get(s).unwrap_or(&0)).max(0) as u64;
            Datum::Number((per_100k(*s, n) * 100.0).round() / 100.0)
        })
        .collect();
    (chart, drawn)
}

/// The hotline's figures in memory, current or a moment behind the latest write.
async fn figures(state: &AppState, p: &Principal) -> Result<crate::dashboard::Served, AppError> {
    Ok(state
        .dashboard
        .figures(&state.store, &p.user.hotline_id)
        .await?)
}

fn figure((id, chart, svg): (&'static str, Chart, String)) -> Figure {
    Figure {
        id,
        title: chart.title.clone(),
        table: svg::html_table(&chart),
        svg,
    }
}

fn form_choices(f: &Filters) -> Vec<Choice> {
    CaseForm::ALL
        .iter()
        .map(|c| Choice {
            code: c.code(),
            label: c.label(),
            selected: f.form == Some(*c),
        })
        .collect()
}

/// `GET /insights`: the dashboard.
pub async fn show(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/insights").await?;
    let f = q.check()?;
    let served = figures(&state, &p).await?;
    let v = View {
        figures: &served.figures,
        filters: &f,
        stale: served.stale(),
    };
    let link_query = f.query(false);
    let (map_chart, map_svg) = state_map(&v, &link_query);
    let by_state = cases_by_state(&v);
    let state_rows = UsState::ALL
        .iter()
        .filter_map(|s| {
            let n = *by_state.get(s)?;
            Some(StateRow {
                code: s.code(),
                name: s.label(),
                cases: n,
                per_100k: rate(per_100k(*s, n.max(0) as u64)),
            })
        })
        .collect();
    render(&InsightsPage {
        chrome: Some(chrome),
        from: f.from.clone().unwrap_or_default(),
        to: f.to.clone().unwrap_or_default(),
        states: UsState::ALL
            .iter()
            .map(|s| Choice {
                code: s.code(),
                label: s.label(),
                selected: f.state == Some(*s),
            })
            .collect(),
        forms: form_choices(&f),
        form_note: f.form.is_some(),
        query: f.query(true),
        headlines: headlines(&v),
        stale: v.stale,
        map: figure(("states", map_chart, map_svg)),
        state_rows,
        population_source: POPULATION_SOURCE,
        figures: breakdowns(&v).into_iter().map(figure).collect(),
    })
}

fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn no_chart(id: &str) -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "Not found",
        format!("no chart `{id}`"),
    )
}

/// `GET /insights/{chart}.csv`: one chart's data as CSV (`trend.csv`, `states.csv`, …), filtered
/// like the dashboard.
pub async fn csv(
    State(state): State<AppState>,
    p: Principal,
    Path(file): Path<String>,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let id = file
        .strip_suffix(".csv")
        .ok_or_else(|| no_chart(&file))?
        .to_owned();
    let f = q.check()?;
    let served = figures(&state, &p).await?;
    let v = View {
        figures: &served.figures,
        filters: &f,
        stale: served.stale(),
    };
    let chart = if id == "states" {
        state_map(&v, "").0
    } else {
        breakdowns(&v)
            .into_iter()
            .find(|(cid, _, _)| *cid == id)
            .map(|(_, chart, _)| chart)
            .ok_or_else(|| no_chart(&id))?
    };
    Ok(csv_response(&id, svg::csv(&chart)))
}

/// The state of a `/insights/states/{USPS}` path segment, or a 404.
fn state_of(code: &str) -> Result<UsState, AppError> {
    UsState::parse_usps(code).map_err(|_| AppError::not_found("state"))
}

/// Every figure of a state's page as one CSV: chart, category, series, value.
fn state_csv(st: UsState, v: &View<'_>) -> String {
    let mut out = String::from("chart,category,series,value\r\n");
    let mut line = |chart: &str, cat: &str, series: &str, value: &str| {
        let f: Vec<String> = [chart, cat, series, value]
            .iter()
            .map(|s| csv_field(s))
            .collect();
        out.push_str(&f.join(","));
        out.push_str("\r\n");
    };
    for h in headlines(v) {
        line("headline", h.label, h.label, &h.value.to_string());
    }
    let n = v.total(METRIC_CASES).max(0) as u64;
    line(
        "headline",
        "Cases per 100,000 residents",
        POPULATION_SOURCE,
        &rate(per_100k(st, n)),
    );
    for (id, chart, _) in breakdowns(v) {
        for (i, cat) in chart.categories.iter().enumerate() {
            for s in &chart.series {
                let value = s.values.get(i).map(|d| d.text()).unwrap_or_default();
                line(id, cat, &s.name, &value);
            }
        }
    }
    out
}

/// One CSV field (RFC 4180), with formula-like text defused as the chart CSVs do.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '@']) || (s.starts_with('-') && s.parse::<f64>().is_err()) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `GET /insights/states/{USPS}` (the page) and `/insights/states/{USPS}.csv` (all its figures).
pub async fn state_page(
    State(state): State<AppState>,
    p: Principal,
    Path(file): Path<String>,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let (code, is_csv) = match file.strip_suffix(".csv") {
        Some(c) => (c, true),
        None => (file.as_str(), false),
    };
    let st = state_of(code)?;
    let mut f = q.check()?;
    f.state = Some(st);
    let served = figures(&state, &p).await?;
    let v = View {
        figures: &served.figures,
        filters: &f,
        stale: served.stale(),
    };
    if is_csv {
        return Ok(csv_response(
            &format!("insights-{}", st.code()),
            state_csv(st, &v),
        ));
    }
    let chrome = Chrome::new(&state, &p, "/insights").await?;
    let n = v.total(METRIC_CASES).max(0) as u64;
    render(&StatePage {
        chrome: Some(chrome),
        code: st.code(),
        name: st.label(),
        from: f.from.clone().unwrap_or_default(),
        to: f.to.clone().unwrap_or_default(),
        forms: form_choices(&f),
        form_note: f.form.is_some(),
        query: f.query(false),
        back_query: f.query(false),
        headlines: headlines(&v),
        stale: v.stale,
        per_100k: rate(per_100k(st, n)),
        population_source: POPULATION_SOURCE,
        figures: breakdowns(&v).into_iter().map(figure).collect(),
    })
}

/// `GET /insights/states/{USPS}/{chart}.csv`: one chart of a state's page as CSV.
pub async fn state_chart_csv(
    State(state): State<AppState>,
    p: Principal,
    Path((code, file)): Path<(String, String)>,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let st = state_of(&code)?;
    let id = file
        .strip_suffix(".csv")
        .ok_or_else(|| no_chart(&file))?
        .to_owned();
    let mut f = q.check()?;
    f.state = Some(st);
    let served = figures(&state, &p).await?;
    let v = View {
        figures: &served.figures,
        filters: &f,
        stale: served.stale(),
    };
    let chart = breakdowns(&v)
        .into_iter()
        .find(|(cid, _, _)| *cid == id)
        .map(|(_, chart, _)| chart)
        .ok_or_else(|| no_chart(&id))?;
    Ok(csv_response(
        &format!("{}-{id}", st.code()),
        svg::csv(&chart),
    ))
}
