//! The public statistics pages, for anyone, signed in or not: per year, the nation's figures
//! (`/statistics/US/{year}`) and each state's (`/statistics/{USPS}/{year}`), as HTML, `.json` and
//! `.csv`, every figure from one release of the release gate per year (see [`crate::statistics`]).
//! `/statistics` shows the latest year.

use super::{PageResult, render};
use crate::error::AppError;
use crate::state::AppState;
use crate::statistics::{self, TABLES, UNKNOWN_STATE, category_label, place_label};
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use lantern_domain::codes::UsState;
use lantern_insights::gate::{Cell, PublishedTable, Release, ZeroRule};
use lantern_insights::geo::{POPULATION_SOURCE, per_100k};
use lantern_insights::svg::{self, Chart, Choropleth, Datum, Series};
use serde::Serialize;

/// The national page's place code.
pub const NATIONAL: &str = "US";

/// One published figure with its category.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// The category's code (a form, a venue, a signaler type, a state's USPS code, `unknown`).
    pub code: String,
    /// Its readable name.
    pub name: String,
    /// The figure as published.
    pub figure: Cell,
    /// The figure as shown (`12`, `fewer than 3`, `withheld`).
    pub shown: String,
}

/// One part of a table shown on a page.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// The release table it comes from.
    pub table: String,
    /// What the table counts (tables of one universe share their totals).
    pub universe: String,
    /// `row` (one state's row of the table), `column_totals` (the nation by category) or
    /// `row_totals` (the table's states).
    pub part: &'static str,
    /// The state, for a `row` part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    /// A heading.
    pub title: String,
    /// What the categories are.
    pub category: String,
    /// The figures.
    pub figures: Vec<Figure>,
    /// Their total as published.
    pub total: Cell,
    /// The total as shown.
    pub total_shown: String,
}

/// A page's content, as its JSON document.
#[derive(Debug, Clone, Serialize)]
pub struct PageData {
    /// The hotline's name.
    pub hotline: String,
    /// `US` or a USPS code.
    pub place: String,
    /// Its name.
    pub place_name: String,
    /// The year.
    pub year: i32,
    /// The gate's threshold: figures below it are "fewer than N".
    pub threshold: u64,
    /// Whether "fewer than N" includes zero (the gate hides zeros too when a year needs it).
    pub zeros_hidden: bool,
    /// The parts of the tables shown.
    pub sections: Vec<Section>,
}

fn title_of(id: &str) -> (&'static str, &'static str) {
    TABLES
        .iter()
        .find(|(t, _, _)| *t == id)
        .map(|(_, title, cat)| (*title, *cat))
        .unwrap_or(("", ""))
}

fn figure(code: &str, name: String, cell: Cell) -> Figure {
    Figure {
        code: code.to_owned(),
        name,
        figure: cell,
        shown: cell.to_string(),
    }
}

fn row_section(t: &PublishedTable, r: usize) -> Section {
    let (title, category) = title_of(&t.id);
    let cols = t
        .cols
        .as_ref()
        .map(|c| c.labels.clone())
        .unwrap_or_default();
    let row = t.rows.labels[r].clone();
    Section {
        table: t.id.clone(),
        universe: t.universe.clone(),
        part: "row",
        title: if row == UNKNOWN_STATE {
            format!("{title}: location not recorded")
        } else {
            title.to_owned()
        },
        row: Some(row),
        category: category.to_owned(),
        figures: cols
            .iter()
            .enumerate()
            .map(|(c, code)| figure(code, category_label(&t.id, code), t.cells[r][c]))
            .collect(),
        total: t.row_totals[r],
        total_shown: t.row_totals[r].to_string(),
    }
}

fn national_sections(t: &PublishedTable) -> Vec<Section> {
    let (title, category) = title_of(&t.id);
    let cols = t
        .cols
        .as_ref()
        .map(|c| c.labels.clone())
        .unwrap_or_default();
    let mut out = vec![Section {
        table: t.id.clone(),
        universe: t.universe.clone(),
        part: "column_totals",
        row: None,
        title: title.to_owned(),
        category: category.to_owned(),
        figures: cols
            .iter()
            .enumerate()
            .map(|(c, code)| figure(code, category_label(&t.id, code), t.col_totals[c]))
            .collect(),
        total: t.total,
        total_shown: t.total.to_string(),
    }];
    // The states of a universe are its first table's rows: shown once per universe.
    if t.id != "cases_by_venue" {
        out.push(Section {
            table: t.id.clone(),
            universe: t.universe.clone(),
            part: "row_totals",
            row: None,
            title: format!("{} by state", t.universe_title()),
            category: "State".into(),
            figures: t
                .rows
                .labels
                .iter()
                .enumerate()
                .map(|(r, code)| figure(code, place_label(code), t.row_totals[r]))
                .collect(),
            total: t.total,
            total_shown: t.total.to_string(),
        });
    }
    if let Some(r) = t.rows.labels.iter().position(|l| l == UNKNOWN_STATE) {
        out.push(row_section(t, r));
    }
    out
}

trait UniverseTitle {
    fn universe_title(&self) -> &'static str;
}

impl UniverseTitle for PublishedTable {
    fn universe_title(&self) -> &'static str {
        if self.universe.starts_with("cases") {
            "Cases"
        } else {
            "Substantive signals"
        }
    }
}

/// What a page shows, from the year's release.
pub fn page_data(hotline: &str, place: &str, year: i32, release: &Release) -> PageData {
    let sections = if place == NATIONAL {
        release.tables.iter().flat_map(national_sections).collect()
    } else {
        release
            .tables
            .iter()
            .filter_map(|t| {
                let r = t.rows.labels.iter().position(|l| l == place)?;
                Some(row_section(t, r))
            })
            .collect()
    };
    PageData {
        hotline: hotline.to_owned(),
        place: place.to_owned(),
        place_name: if place == NATIONAL {
            "United States".into()
        } else {
            place_label(place)
        },
        year,
        threshold: release.config.threshold,
        zeros_hidden: release.config.zeros == ZeroRule::Suppress,
        sections,
    }
}

fn csv(d: &PageData) -> String {
    let mut out = String::from("table,part,row,category,name,figure\r\n");
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    for s in &d.sections {
        let row = s.row.clone().unwrap_or_default();
        for f in &s.figures {
            out.push_str(
                &[&s.table, s.part, &row, &f.code, &f.name, &f.shown]
                    .map(&field)
                    .join(","),
            );
            out.push_str("\r\n");
        }
        out.push_str(
            &[&s.table, s.part, &row, "total", "Total", &s.total_shown]
                .map(field)
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

/// One section drawn as a chart with its table.
pub struct Drawn {
    id: String,
    title: String,
    svg: String,
    table: String,
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct StatisticsPage {
    chrome: Option<super::Chrome>,
    data: PageData,
    years: Vec<i32>,
    states: Vec<(String, String)>,
    map: Option<Drawn>,
    drawn: Vec<Drawn>,
    base: String,
    population_source: &'static str,
}

fn chart_of(s: &Section, i: usize) -> Chart {
    Chart {
        id: format!("s{i}-{}", s.table),
        title: s.title.clone(),
        description: format!(
            "{} by {}; figures below the threshold are not drawn.",
            s.title,
            s.category.to_lowercase()
        ),
        category_label: s.category.clone(),
        value_label: "Count".into(),
        categories: s.figures.iter().map(|f| f.name.clone()).collect(),
        series: vec![Series {
            name: "Count".into(),
            values: s.figures.iter().map(|f| Datum::from(f.figure)).collect(),
        }],
    }
}

/// The national map: published case totals per 100,000 residents; states whose total is hidden
/// are grey. Each state links to its page.
fn national_map(d: &PageData) -> Option<Drawn> {
    let s = d
        .sections
        .iter()
        .find(|s| s.part == "row_totals" && s.table == "cases_by_form")?;
    let values = s
        .figures
        .iter()
        .filter_map(|f| {
            let st = UsState::parse_usps(&f.code).ok()?;
            let v = match f.figure {
                Cell::Value(n) => Datum::Number((per_100k(st, n) * 100.0).round() / 100.0),
                other => Datum::Hidden(other.to_string()),
            };
            Some((st, v))
        })
        .collect();
    let map = Choropleth {
        id: "map".into(),
        title: format!("Cases per 100,000 residents, {}", d.year),
        description: format!(
            "Cases in each state per 100,000 residents ({POPULATION_SOURCE}); grey states have fewer cases than the threshold or a withheld figure."
        ),
        value_label: "Cases per 100,000 residents".into(),
        hidden_label: "not shown (small or withheld)".into(),
        values,
    };
    let year = d.year;
    let svg = svg::choropleth_linked(&map, &|st| format!("/statistics/{}/{year}", st.code()));
    Some(Drawn {
        id: "map".into(),
        title: map.title.clone(),
        table: svg::html_table(&map.as_chart()),
        svg,
    })
}

async fn hotline_name(state: &AppState, id: &str) -> Result<String, AppError> {
    Ok(state
        .store
        .hotline(id)
        .await?
        .map(|h| h.name)
        .unwrap_or_default())
}

async fn respond(state: &AppState, place: &str, year: i32, format: &str) -> PageResult {
    let (hotline_id, config) = statistics::published(state).await?;
    let years = statistics::years(state, &hotline_id).await?;
    if !years.contains(&year) {
        return Err(AppError::not_found(&format!("statistics for {year}")).into());
    }
    let release = statistics::release(state, &hotline_id, &config, year).await?;
    let data = page_data(
        &hotline_name(state, &hotline_id).await?,
        place,
        year,
        &release,
    );
    match format {
        "json" => Ok(Json(data).into_response()),
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"statistics-{place}-{year}.csv\""),
                ),
            ],
            csv(&data),
        )
            .into_response()),
        _ => {
            let states = release
                .tables
                .first()
                .map(|t| {
                    t.rows
                        .labels
                        .iter()
                        .filter(|l| *l != UNKNOWN_STATE)
                        .map(|l| (l.clone(), place_label(l)))
                        .collect()
                })
                .unwrap_or_default();
            let map = if place == NATIONAL {
                national_map(&data)
            } else {
                None
            };
            let drawn = data
                .sections
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let c = chart_of(s, i);
                    Drawn {
                        id: c.id.clone(),
                        title: c.title.clone(),
                        svg: svg::bar_chart(&c),
                        table: svg::html_table(&c),
                    }
                })
                .collect();
            render(&StatisticsPage {
                chrome: None,
                base: format!("/statistics/{place}/{year}"),
                data,
                years,
                states,
                map,
                drawn,
                population_source: POPULATION_SOURCE,
            })
        }
    }
}

/// `GET /statistics`: the nation's latest year.
pub async fn index(State(state): State<AppState>) -> PageResult {
    let (hotline_id, _) = statistics::published(&state).await?;
    let years = statistics::years(&state, &hotline_id).await?;
    let Some(latest) = years.first() else {
        return Err(AppError::not_found("statistics (nothing recorded yet)").into());
    };
    respond(&state, NATIONAL, *latest, "html").await
}

/// `GET /statistics/{place}/{year}` with `.json` or `.csv` for the downloads.
pub async fn show(
    State(state): State<AppState>,
    Path((place, file)): Path<(String, String)>,
) -> PageResult {
    let place = if place.eq_ignore_ascii_case(NATIONAL) {
        NATIONAL.to_owned()
    } else {
        UsState::parse_usps(&place)
            .map_err(|_| AppError::not_found("place (use US or a state's USPS code)"))?
            .code()
            .to_owned()
    };
    let (year, format) = match file.split_once('.') {
        Some((y, f)) => (y, f),
        None => (file.as_str(), "html"),
    };
    if !["html", "json", "csv"].contains(&format) {
        return Err(AppError::not_found("format (use .json or .csv)").into());
    }
    let year: i32 = year
        .parse()
        .ok()
        .filter(|y| (1900..=9999).contains(y))
        .ok_or_else(|| AppError::not_found("year"))?;
    respond(&state, &place, year, format).await
}
