//! Choropleths: the US states, or one state's counties, each shaded by its value's class, a legend
//! of the classes, and areas whose figure is hidden (by the gate, or for want of a resource) marked
//! as such.

use super::{Chart, Datum, Series, escape, format_number, open, ticks};
use crate::geo::{MAP_HEIGHT, MAP_WIDTH, counties_of, county_shapes, state_shapes};
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
    /// What a hidden value means, in the legend (`no resource`, `not shown (small or withheld)`).
    pub hidden_label: String,
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
    let areas: Vec<Area> = state_shapes()
        .iter()
        .map(|s| Area {
            path: s.path,
            name: s.state.label(),
            datum: map.values.get(&s.state),
            href: href.map(|h| h(s.state)),
        })
        .collect();
    // The insets reach left of 0: the drawing starts at x = -60.
    let frame = Frame {
        left: -60.0,
        width: MAP_WIDTH + 60.0,
        height: MAP_HEIGHT,
        transform: String::new(),
        stroke_width: 0.5,
    };
    draw_areas(
        &Legend {
            id: &map.id,
            title: &map.title,
            description: &map.description,
            value_label: &map.value_label,
            hidden_label: &map.hidden_label,
        },
        &frame,
        &areas,
    )
}

/// What a county choropleth shows: one value per county of one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountyChoropleth {
    /// An identifier unique on the page.
    pub id: String,
    /// The title.
    pub title: String,
    /// A sentence describing the map, for screen readers.
    pub description: String,
    /// What the values are (`Cases per resource`).
    pub value_label: String,
    /// What a hidden value means, in the legend (`no resource`, `not shown (small or withheld)`).
    pub hidden_label: String,
    /// The state whose counties are drawn.
    pub state: UsState,
    /// Values by five-digit county FIPS code; counties absent are drawn as "no data".
    pub values: BTreeMap<String, Datum>,
}

impl CountyChoropleth {
    /// The same data as a chart (every county of the state, by its Census name, in FIPS order),
    /// for [`super::html_table`] and [`super::csv`].
    pub fn as_chart(&self) -> Chart {
        let counties: Vec<_> = counties_of(self.state).collect();
        Chart {
            id: self.id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            category_label: "County".into(),
            value_label: self.value_label.clone(),
            categories: counties.iter().map(|c| c.name.to_owned()).collect(),
            series: vec![Series {
                name: self.value_label.clone(),
                values: counties
                    .iter()
                    .map(|c| {
                        self.values
                            .get(c.fips)
                            .cloned()
                            .unwrap_or_else(|| Datum::Hidden("no data".into()))
                    })
                    .collect(),
            }],
        }
    }
}

/// Width and height of the box a state's counties are scaled to fit.
const COUNTY_MAP_BOX: (f64, f64) = (760.0, 520.0);

/// Draws one state's counties, scaled to fit (the bounding box of the state's county outlines
/// fills the map area), with a legend below; `None` when Lantern has no county outlines for the
/// state (Puerto Rico).
pub fn county_choropleth(map: &CountyChoropleth) -> Option<String> {
    let counties = county_shapes(map.state)?;
    let b = counties.bounds;
    let scale = (COUNTY_MAP_BOX.0 / b.width()).min(COUNTY_MAP_BOX.1 / b.height());
    let frame = Frame {
        left: 0.0,
        width: COUNTY_MAP_BOX.0,
        height: b.height() * scale,
        transform: format!(" scale({scale}) translate({} {})", -b.min_x, -b.min_y),
        // Half a pixel once scaled, as on the US map.
        stroke_width: 0.5 / scale,
    };
    let areas: Vec<Area> = counties
        .shapes
        .iter()
        .map(|c| Area {
            path: c.path,
            name: c.county.name,
            datum: map.values.get(c.county.fips),
            href: None,
        })
        .collect();
    Some(draw_areas(
        &Legend {
            id: &map.id,
            title: &map.title,
            description: &map.description,
            value_label: &map.value_label,
            hidden_label: &map.hidden_label,
        },
        &frame,
        &areas,
    ))
}

/// The texts around a map.
struct Legend<'a> {
    id: &'a str,
    title: &'a str,
    description: &'a str,
    value_label: &'a str,
    hidden_label: &'a str,
}

/// Where the shapes are drawn: a map area `width` × `height` starting at x = `left`, below the title;
/// `transform` (SVG, after the move below the title) takes the shapes' coordinates into it.
struct Frame {
    left: f64,
    width: f64,
    height: f64,
    transform: String,
    stroke_width: f64,
}

/// One shaded shape.
struct Area<'a> {
    path: &'a str,
    name: &'a str,
    datum: Option<&'a Datum>,
    href: Option<String>,
}

fn draw_areas(legend: &Legend, frame: &Frame, areas: &[Area]) -> String {
    let max = areas
        .iter()
        .filter_map(|a| a.datum.and_then(Datum::number))
        .fold(0.0, f64::max);
    let (_, breaks) = ticks(max);
    // Classes: [breaks[i], breaks[i+1]) for i < k.
    let k = (breaks.len() - 1).clamp(1, RAMP.len());
    let class_colour = |i: usize| {
        RAMP[if k == 1 {
            RAMP.len() - 1
        } else {
            i * (RAMP.len() - 1) / (k - 1)
        }]
    };
    let colour_of = |v: f64| {
        let i = breaks
            .windows(2)
            .position(|w| v < w[1])
            .unwrap_or(k - 1)
            .min(k - 1);
        class_colour(i)
    };
    let legend_h = 56.0;
    let title_h = 28.0;
    let left = frame.left;
    let w = frame.width;
    let h = title_h + frame.height + legend_h;
    let mut out = String::new();
    open(
        &mut out,
        legend.id,
        w,
        h,
        left,
        legend.title,
        legend.description,
    );
    let _ = write!(
        out,
        r##"<rect x="{left}" y="0" width="{w}" height="{h}" fill="#ffffff"/><text x="0" y="20" font-size="14" font-weight="bold">{}</text><g transform="translate(0 {title_h}){}" stroke="#555555" stroke-width="{}" stroke-linejoin="round">"##,
        escape(legend.title),
        frame.transform,
        frame.stroke_width
    );
    let mut any_hidden = false;
    for a in areas {
        let (fill, text) = match a.datum {
            Some(Datum::Number(v)) => (colour_of(*v), format_number(*v)),
            Some(Datum::Hidden(t)) => {
                any_hidden = true;
                (HIDDEN, t.clone())
            }
            None => (NO_DATA, "no data".to_owned()),
        };
        let path = format!(
            r#"<path d="{}" fill="{fill}"><title>{}: {}</title></path>"#,
            a.path,
            escape(a.name),
            escape(&text)
        );
        match &a.href {
            Some(h) => {
                let _ = write!(
                    out,
                    r#"<a href="{}" aria-label="{}: {}">{path}</a>"#,
                    escape(h),
                    escape(a.name),
                    escape(&text)
                );
            }
            None => out.push_str(&path),
        }
    }
    out.push_str("</g>");
    let y = title_h + frame.height + 8.0;
    let _ = write!(
        out,
        r#"<text x="0" y="{y}">{}</text>"#,
        escape(legend.value_label)
    );
    let mut x = 0.0;
    for i in 0..k {
        let label = format!(
            "{}–{}",
            format_number(breaks[i]),
            format_number(breaks[(i + 1).min(breaks.len() - 1)])
        );
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{}" width="16" height="16" fill="{}" stroke="#555555" stroke-width="0.5"/><text x="{}" y="{}">{}</text>"##,
            y + 10.0,
            class_colour(i),
            x + 20.0,
            y + 23.0,
            escape(&label)
        );
        x += 30.0 + 8.0 * label.chars().count() as f64;
    }
    if any_hidden {
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{}" width="16" height="16" fill="{HIDDEN}" stroke="#555555" stroke-width="0.5"/><text x="{}" y="{}">{}</text>"##,
            y + 10.0,
            x + 20.0,
            y + 23.0,
            escape(legend.hidden_label)
        );
    }
    out.push_str("</svg>");
    out
}
