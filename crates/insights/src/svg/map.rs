//! The US state choropleth: each state shaded by its value's class, a legend of the classes, and
//! states whose figure the gate hid marked as such.

use super::{Chart, Datum, Series, escape, format_number, open, ticks};
use crate::geo::{MAP_HEIGHT, MAP_WIDTH, state_shapes};
use lantern_domain::codes::UsState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Sequential blues, light to dark (ColorBrewer-like ramp, written out here).
const RAMP: [&str; 7] = [
    "#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594",
];
const HIDDEN: &str = "#bdbdbd";
const NO_DATA: &str = "#ffffff";

/// What a choropleth shows: one value per state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choropleth {
    /// An identifier unique on the page.
    pub id: String,
    /// The title.
    pub title: String,
    /// A sentence describing the map, for screen readers.
    pub description: String,
    /// What the values are (`Cases per 100,000 residents`).
    pub value_label: String,
    /// Values by state; states absent are drawn as "no data".
    pub values: BTreeMap<UsState, Datum>,
}

impl Choropleth {
    /// The same data as a chart (states as categories, by name), for [`super::html_table`] and
    /// [`super::csv`].
    pub fn as_chart(&self) -> Chart {
        let states: Vec<UsState> = UsState::ALL.to_vec();
        Chart {
            id: self.id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            category_label: "State".into(),
            value_label: self.value_label.clone(),
            categories: states.iter().map(|s| s.label().to_owned()).collect(),
            series: vec![Series {
                name: self.value_label.clone(),
                values: states
                    .iter()
                    .map(|s| {
                        self.values
                            .get(s)
                            .cloned()
                            .unwrap_or_else(|| Datum::Hidden("no data".into()))
                    })
                    .collect(),
            }],
        }
    }
}

/// Draws the choropleth with a legend below the map.
pub fn choropleth(map: &Choropleth) -> String {
    draw(map, None)
}

/// Draws the choropleth with each state a link to `href(state)` (a drill-down page): the links are
/// focusable with the keyboard, and each is named by the state and its figure.
pub fn choropleth_linked(map: &Choropleth, href: &dyn Fn(UsState) -> String) -> String {
    draw(map, Some(href))
}

fn draw(map: &Choropleth, href: Option<&dyn Fn(UsState) -> String>) -> String {
    let max = map
        .values
        .values()
        .filter_map(Datum::number)
        .fold(0.0, f64::max);
    let (_, breaks) = ticks(max);
    // Classes: [breaks[i], breaks[i+1]) for i < k.
    let k = (breaks.len() - 1).clamp(1, RAMP.len());
    let colour_of = |v: f64| {
        let i = breaks
            .windows(2)
            .position(|w| v < w[1])
            .unwrap_or(k - 1)
            .min(k - 1);
        RAMP[if k == 1 {
            RAMP.len() - 1
        } else {
            i * (RAMP.len() - 1) / (k - 1)
        }]
    };
    let legend_h = 56.0;
    let title_h = 28.0;
    let min_x = -60.0;
    let w = MAP_WIDTH - min_x;
    let h = title_h + MAP_HEIGHT + legend_h;
    let mut out = String::new();
    open(&mut out, &map.id, w, h, min_x, &map.title, &map.description);
    let _ = write!(
        out,
        r##"<rect x="{min_x}" y="0" width="{w}" height="{h}" fill="#ffffff"/><text x="0" y="20" font-size="14" font-weight="bold">{}</text><g transform="translate(0 {title_h})" stroke="#555555" stroke-width="0.5" stroke-linejoin="round">"##,
        escape(&map.title)
    );
    let mut any_hidden = false;
    for s in state_shapes() {
        let (fill, text) = match map.values.get(&s.state) {
            Some(Datum::Number(v)) => (colour_of(*v), format_number(*v)),
            Some(Datum::Hidden(t)) => {
                any_hidden = true;
                (HIDDEN, t.clone())
            }
            None => (NO_DATA, "no data".to_owned()),
        };
        let path = format!(
            r#"<path d="{}" fill="{fill}"><title>{}: {}</title></path>"#,
            s.path,
            escape(s.state.label()),
            escape(&text)
        );
        match href {
            Some(h) => {
                let _ = write!(
                    out,
                    r#"<a href="{}" aria-label="{}: {}">{path}</a>"#,
                    escape(&h(s.state)),
                    escape(s.state.label()),
                    escape(&text)
                );
            }
            None => out.push_str(&path),
        }
    }
    out.push_str("</g>");
    let y = title_h + MAP_HEIGHT + 8.0;
    let _ = write!(
        out,
        r#"<text x="0" y="{y}">{}</text>"#,
        escape(&map.value_label)
    );
    let mut x = 0.0;
    for i in 0..k {
        let colour = RAMP[if k == 1 {
            RAMP.len() - 1
        } else {
            i * (RAMP.len() - 1) / (k - 1)
        }];
        let label = format!(
            "{}–{}",
            format_number(breaks[i]),
            format_number(breaks[(i + 1).min(breaks.len() - 1)])
        );
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{}" width="16" height="16" fill="{colour}" stroke="#555555" stroke-width="0.5"/><text x="{}" y="{}">{}</text>"##,
            y + 10.0,
            x + 20.0,
            y + 23.0,
            escape(&label)
        );
        x += 30.0 + 8.0 * label.chars().count() as f64;
    }
    if any_hidden {
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{}" width="16" height="16" fill="{HIDDEN}" stroke="#555555" stroke-width="0.5"/><text x="{}" y="{}">not shown (small or withheld)</text>"##,
            y + 10.0,
            x + 20.0,
            y + 23.0
        );
    }
    out.push_str("</svg>");
    out
}
