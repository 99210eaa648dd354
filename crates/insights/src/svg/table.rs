//! The same data as a chart, as an HTML table ("view as table") and as CSV (download).

use super::{Chart, escape};
use std::fmt::Write;

/// An accessible HTML table: caption, a header row, one row per category.
pub fn html_table(chart: &Chart) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<table id="{}-table"><caption>{}</caption><thead><tr><th scope="col">{}</th>"#,
        super::slug(&chart.id),
        escape(&chart.title),
        escape(&chart.category_label)
    );
    for s in &chart.series {
        let _ = write!(out, r#"<th scope="col">{}</th>"#, escape(&s.name));
    }
    out.push_str("</tr></thead><tbody>");
    for (i, c) in chart.categories.iter().enumerate() {
        let _ = write!(out, r#"<tr><th scope="row">{}</th>"#, escape(c));
        for s in &chart.series {
            let text = s.values.get(i).map(|d| d.text()).unwrap_or_default();
            let _ = write!(out, "<td>{}</td>", escape(&text));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// CSV (RFC 4180): a header of the category label and series names, one line per category. Cells
/// that could be read as formulas by a spreadsheet are prefixed with `'`.
pub fn csv(chart: &Chart) -> String {
    let mut out = String::new();
    let mut line = |fields: Vec<String>| {
        let f: Vec<String> = fields.iter().map(|s| csv_field(s)).collect();
        out.push_str(&f.join(","));
        out.push_str("\r\n");
    };
    let mut head = vec![chart.category_label.clone()];
    head.extend(chart.series.iter().map(|s| s.name.clone()));
    line(head);
    for (i, c) in chart.categories.iter().enumerate() {
        let mut row = vec![c.clone()];
        row.extend(
            chart
                .series
                .iter()
                .map(|s| s.values.get(i).map(|d| d.text()).unwrap_or_default()),
        );
        line(row);
    }
    out
}

/// One CSV field (RFC 4180), prefixed with `'` when a spreadsheet could read it as a formula.
pub fn csv_field(s: &str) -> String {
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
