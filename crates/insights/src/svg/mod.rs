//! Charts and the US map drawn as standalone SVG by the server: no scripts, no external assets,
//! accessible (`role="img"`, `<title>`, `<desc>`, `aria-labelledby`). Every chart also renders as an
//! HTML table ("view as table") and as CSV (download) from the same data.

mod charts;
mod map;
mod table;

pub use charts::{bar_chart, line_chart, stacked_bar_chart};
pub use map::{Choropleth, CountyChoropleth, choropleth, choropleth_linked, county_choropleth};
pub use table::{csv, csv_field, html_table};

use crate::gate::Cell;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// One value of a chart: a number, or a figure the gate hid (with its published text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Datum {
    /// A number drawn to scale.
    Number(f64),
    /// Not drawn; shown as its text in tables (`fewer than 3`, `withheld`, `no data`).
    Hidden(String),
}

impl Datum {
    /// The number, when there is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Datum::Number(v) => Some(*v),
            Datum::Hidden(_) => None,
        }
    }

    /// The text shown in tables and CSV.
    pub fn text(&self) -> String {
        match self {
            Datum::Number(v) => format_number(*v),
            Datum::Hidden(t) => t.clone(),
        }
    }
}

impl From<Cell> for Datum {
    fn from(c: Cell) -> Datum {
        match c {
            Cell::Value(v) => Datum::Number(v as f64),
            other => Datum::Hidden(other.to_string()),
        }
    }
}

impl From<u64> for Datum {
    fn from(v: u64) -> Datum {
        Datum::Number(v as f64)
    }
}

/// A named series of values, one per category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// The series' name (legend, table column).
    pub name: String,
    /// One value per category of the chart.
    pub values: Vec<Datum>,
}

/// What a bar, line or stacked bar chart shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// An identifier unique on the page (used for the `<title>` and `<desc>` ids).
    pub id: String,
    /// The title (also the SVG's accessible name and the table's caption).
    pub title: String,
    /// A sentence describing what the chart shows, for screen readers.
    pub description: String,
    /// What the categories are (`Month`, `State`): first column of the table.
    pub category_label: String,
    /// What the values are (`Contacts`).
    pub value_label: String,
    /// The categories along the horizontal axis.
    pub categories: Vec<String>,
    /// One or more series.
    pub series: Vec<Series>,
}

/// Okabe–Ito colours, distinguishable with colour-vision deficiencies.
pub(crate) const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

/// Escapes text for XML and HTML content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// An identifier safe in an XML id.
pub(crate) fn slug(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s
    } else {
        format!("c-{s}")
    }
}

pub(crate) fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        // Rates such as cases per 100,000 residents are often below 1: two decimals, trailing zeros
        // dropped.
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Opens a standalone SVG with its accessible title and description.
pub(crate) fn open(
    out: &mut String,
    id: &str,
    w: f64,
    h: f64,
    min_x: f64,
    title: &str,
    desc: &str,
) {
    let id = slug(id);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="{min_x} 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="sans-serif" font-size="12"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(desc)
    );
}

/// Ticks for an axis from 0 to at least `max`: a round step (1, 2 or 5 × 10ⁿ) and the top.
pub(crate) fn ticks(max: f64) -> (f64, Vec<f64>) {
    if max <= 0.0 || !max.is_finite() {
        return (1.0, vec![0.0, 1.0]);
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
        .max(1.0);
    let top = (max / step).ceil() * step;
    let n = (top / step).round() as usize;
    (top, (0..=n).map(|i| i as f64 * step).collect())
}

#[cfg(test)]
mod tests;
