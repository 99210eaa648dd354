//! Bar, line and stacked bar charts over shared axes.

use super::{Chart, PALETTE, escape, format_number, open, ticks};
use std::fmt::Write;

const W: f64 = 720.0;
const H: f64 = 360.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 72.0;

struct Frame {
    top: f64,
    band: f64,
}

impl Frame {
    fn y(&self, v: f64) -> f64 {
        TOP + (H - TOP - BOTTOM) * (1.0 - v / self.top)
    }
    fn x(&self, i: usize) -> f64 {
        LEFT + self.band * i as f64
    }
}

/// Axes, gridlines, category labels, legend and the note on hidden values.
fn frame(out: &mut String, chart: &Chart, max: f64) -> Frame {
    let (top, ticks) = ticks(max);
    let n = chart.categories.len().max(1);
    let f = Frame {
        top,
        band: (W - LEFT - RIGHT) / n as f64,
    };
    let _ = write!(
        out,
        r##"<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/><text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>"##,
        escape(&chart.title)
    );
    for t in ticks {
        let y = f.y(t);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#dddddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            format_number(t)
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{}" stroke="#333333"/><text transform="translate(14 {}) rotate(-90)" text-anchor="middle">{}</text>"##,
        H - BOTTOM,
        (TOP + H - BOTTOM) / 2.0,
        escape(&chart.value_label)
    );
    let every = (n / 12).max(1);
    for (i, c) in chart.categories.iter().enumerate() {
        if i % every == 0 {
            let x = f.x(i) + f.band / 2.0;
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="end" transform="rotate(-35 {x:.1} {:.1})">{}</text>"#,
                H - BOTTOM + 14.0,
                H - BOTTOM + 14.0,
                escape(c)
            );
        }
    }
    let mut lx = LEFT;
    for (si, s) in chart.series.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect x="{lx:.1}" y="{}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{}">{}</text>"#,
            H - 14.0,
            PALETTE[si % PALETTE.len()],
            lx + 14.0,
            H - 5.0,
            escape(&s.name)
        );
        lx += 24.0 + 7.0 * s.name.chars().count() as f64;
    }
    let hidden = chart
        .series
        .iter()
        .flat_map(|s| &s.values)
        .filter(|d| d.number().is_none())
        .count();
    if hidden > 0 {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#555555">{hidden} value(s) not shown (small or withheld); see the table</text>"##,
            W - RIGHT,
            H - 5.0
        );
    }
    f
}

fn max_of(chart: &Chart) -> f64 {
    chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().filter_map(|d| d.number()))
        .fold(0.0, f64::max)
}

/// A bar chart (grouped bars when there are several series).
pub fn bar_chart(chart: &Chart) -> String {
    let mut out = String::new();
    open(
        &mut out,
        &chart.id,
        W,
        H,
        0.0,
        &chart.title,
        &chart.description,
    );
    let f = frame(&mut out, chart, max_of(chart));
    let k = chart.series.len().max(1) as f64;
    let bw = f.band * 0.8 / k;
    for (si, s) in chart.series.iter().enumerate() {
        for (i, d) in s.values.iter().enumerate() {
            if let Some(v) = d.number() {
                let x = f.x(i) + f.band * 0.1 + bw * si as f64;
                let y = f.y(v.max(0.0));
                let _ = write!(
                    out,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{:.1}" fill="{}"><title>{}: {}</title></rect>"#,
                    f.y(0.0) - y,
                    PALETTE[si % PALETTE.len()],
                    escape(chart.categories.get(i).map_or("", String::as_str)),
                    escape(&d.text())
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

/// A line chart (one line per series; hidden values break the line).
pub fn line_chart(chart: &Chart) -> String {
    let mut out = String::new();
    open(
        &mut out,
        &chart.id,
        W,
        H,
        0.0,
        &chart.title,
        &chart.description,
    );
    let f = frame(&mut out, chart, max_of(chart));
    for (si, s) in chart.series.iter().enumerate() {
        let colour = PALETTE[si % PALETTE.len()];
        let mut d = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate() {
            match v.number() {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1}",
                        if pen_down { "L" } else { "M" },
                        f.x(i) + f.band / 2.0,
                        f.y(v.max(0.0))
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !d.is_empty() {
            let _ = write!(
                out,
                r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"/>"#
            );
        }
        for (i, v) in s.values.iter().enumerate() {
            if let Some(n) = v.number() {
                let _ = write!(
                    out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{}: {}</title></circle>"#,
                    f.x(i) + f.band / 2.0,
                    f.y(n.max(0.0)),
                    escape(chart.categories.get(i).map_or("", String::as_str)),
                    escape(&v.text())
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

/// A stacked bar chart: each category's series stacked in order.
pub fn stacked_bar_chart(chart: &Chart) -> String {
    let n = chart.categories.len();
    let sums: Vec<f64> = (0..n)
        .map(|i| {
            chart
                .series
                .iter()
                .filter_map(|s| s.values.get(i).and_then(|d| d.number()))
                .map(|v| v.max(0.0))
                .sum()
        })
        .collect();
    let mut out = String::new();
    open(
        &mut out,
        &chart.id,
        W,
        H,
        0.0,
        &chart.title,
        &chart.description,
    );
    let f = frame(&mut out, chart, sums.iter().copied().fold(0.0, f64::max));
    for i in 0..n {
        let mut base = 0.0;
        for (si, s) in chart.series.iter().enumerate() {
            let Some(v) = s.values.get(i).and_then(|d| d.number()) else {
                continue;
            };
            let v = v.max(0.0);
            let (y0, y1) = (f.y(base), f.y(base + v));
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{y1:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}, {}: {}</title></rect>"#,
                f.x(i) + f.band * 0.15,
                f.band * 0.7,
                y0 - y1,
                PALETTE[si % PALETTE.len()],
                escape(&chart.categories[i]),
                escape(&s.name),
                format_number(v)
            );
            base += v;
        }
    }
    out.push_str("</svg>");
    out
}
