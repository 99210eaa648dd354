use super::*;
use crate::gate::Cell;
use lantern_domain::codes::UsState;
use std::collections::BTreeMap;

fn monthly() -> Chart {
    Chart {
        id: "trend".into(),
        title: "Contacts by month & channel".into(),
        description: "Contacts per month, by phone and SMS, January to June 2026.".into(),
        category_label: "Month".into(),
        value_label: "Contacts".into(),
        categories: [
            "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06",
        ]
        .map(String::from)
        .to_vec(),
        series: vec![
            Series {
                name: "Phone".into(),
                values: [120u64, 98, 143, 160, 151, 170].map(Datum::from).to_vec(),
            },
            Series {
                name: "SMS <text>".into(),
                values: vec![
                    Datum::from(40u64),
                    Cell::FewerThan(3).into(),
                    Datum::from(55u64),
                    Cell::Withheld.into(),
                    Datum::from(61u64),
                    Datum::from(70u64),
                ],
            },
        ],
    }
}

fn map() -> Choropleth {
    let mut values = BTreeMap::new();
    for (i, s) in UsState::ALL.iter().enumerate() {
        if i % 9 == 4 {
            values.insert(*s, Cell::FewerThan(3).into());
        } else if i % 13 != 7 {
            values.insert(*s, Datum::Number((i * 7 % 40) as f64 + 0.5));
        }
    }
    Choropleth {
        id: "map".into(),
        title: "Cases per 100,000 residents".into(),
        description: "Each state shaded by cases per 100,000 residents in 2026.".into(),
        value_label: "Cases per 100,000".into(),
        hidden_label: "not shown (small or withheld)".into(),
        values,
    }
}

/// Virginia's counties and independent cities: every third a number, a few hidden, some without data.
fn county_map() -> CountyChoropleth {
    let mut values = BTreeMap::new();
    for (i, c) in crate::geo::counties_of(UsState::Va).enumerate() {
        match i % 5 {
            0 => {}
            1 => {
                values.insert(c.fips.to_owned(), Datum::Hidden("no resource".into()));
            }
            _ => {
                values.insert(c.fips.to_owned(), Datum::Number((i % 17) as f64 + 0.25));
            }
        }
    }
    CountyChoropleth {
        id: "county-map".into(),
        title: "Shelter for men in Virginia: cases per resource by county".into(),
        description: "Each county of Virginia shaded by cases per vetted resource.".into(),
        value_label: "Cases per resource".into(),
        hidden_label: "no resource".into(),
        state: UsState::Va,
        values,
    }
}

fn rendered() -> Vec<(&'static str, String)> {
    vec![
        ("bar", bar_chart(&monthly())),
        ("line", line_chart(&monthly())),
        ("stacked", stacked_bar_chart(&monthly())),
        ("map", choropleth(&map())),
        ("county-map", county_choropleth(&county_map()).unwrap()),
    ]
}

#[test]
fn every_chart_is_a_well_formed_standalone_accessible_svg_without_scripts() {
    for (name, svg) in rendered() {
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg", "{name}");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        assert_eq!(root.attribute("role"), Some("img"));
        let labelled = root.attribute("aria-labelledby").unwrap();
        for id in labelled.split(' ') {
            let el = doc
                .descendants()
                .find(|n| n.attribute("id") == Some(id))
                .unwrap_or_else(|| panic!("{name}: no element {id}"));
            assert!(["title", "desc"].contains(&el.tag_name().name()));
            assert!(!el.text().unwrap_or_default().is_empty());
        }
        for n in doc.descendants() {
            assert_ne!(n.tag_name().name(), "script", "{name}");
            assert_ne!(n.tag_name().name(), "image", "{name}");
            for a in n.attributes() {
                assert!(!a.name().starts_with("on"), "{name}: event handler");
                assert!(!a.value().contains("http:") || a.value().contains("www.w3.org"));
            }
        }
    }
}

#[test]
fn text_from_data_is_escaped_not_interpreted() {
    let svg = bar_chart(&monthly());
    assert!(svg.contains("SMS &lt;text&gt;"));
    assert!(svg.contains("Contacts by month &amp; channel"));
}

#[test]
fn hidden_values_are_not_drawn_and_are_announced() {
    let svg = bar_chart(&monthly());
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let bars = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "rect" && n.children().any(|c| c.has_tag_name("title")))
        .count();
    assert_eq!(bars, 10);
    assert!(svg.contains("2 value(s) not shown"));
}

#[test]
fn the_map_draws_every_state_and_marks_hidden_ones() {
    let svg = choropleth(&map());
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let paths = doc.descendants().filter(|n| n.has_tag_name("path")).count();
    assert_eq!(paths, UsState::ALL.len());
    assert!(svg.contains("<title>Texas: "));
    assert!(svg.contains("not shown (small or withheld)"));
    assert!(svg.contains(": fewer than 3</title>"));
}

#[test]
fn the_county_map_draws_the_states_counties_scaled_to_fit_and_names_each() {
    let m = county_map();
    let svg = county_choropleth(&m).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let paths: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("path"))
        .collect();
    // 133 counties and independent cities; three cities have no outline at this scale.
    assert_eq!(crate::geo::counties_of(UsState::Va).count(), 133);
    assert_eq!(paths.len(), 130);
    assert!(svg.contains("<title>Fairfax County: "));
    assert!(svg.contains("<title>Richmond city: "));
    assert!(svg.contains(": no resource</title>"));
    assert!(svg.contains(">no resource</text>"));
    assert!(!svg.contains("small or withheld"));
    // The group maps Virginia's box onto the 760-wide map area.
    let g = doc
        .descendants()
        .find(|n| n.has_tag_name("g"))
        .and_then(|n| n.attribute("transform"))
        .unwrap();
    assert!(g.starts_with("translate(0 28) scale("), "{g}");
    let b = crate::geo::county_shapes(UsState::Va).unwrap().bounds;
    let scale: f64 = g["translate(0 28) scale(".len()..]
        .split(')')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((b.width() * scale - 760.0).abs() < 1e-6 || b.height() * scale <= 520.0 + 1e-6);
    assert!(b.width() * scale <= 760.0 + 1e-6 && b.height() * scale <= 520.0 + 1e-6);
    // The table lists every county, with or without an outline.
    let chart = m.as_chart();
    assert_eq!(chart.categories.len(), 133);
    assert!(chart.categories.iter().any(|c| c == "Falls Church city"));
    assert!(html_table(&chart).contains("Falls Church city"));
}

#[test]
fn a_state_without_county_outlines_has_no_county_map() {
    let m = CountyChoropleth {
        state: UsState::Pr,
        values: BTreeMap::new(),
        ..county_map()
    };
    assert_eq!(county_choropleth(&m), None);
    assert!(m.as_chart().categories.is_empty());
}

#[test]
fn a_linked_map_makes_every_state_a_named_link_to_its_page() {
    let svg = choropleth_linked(&map(), &|s| format!("/insights/states/{}", s.code()));
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let links: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("a")).collect();
    assert_eq!(links.len(), UsState::ALL.len());
    let tx = links
        .iter()
        .find(|a| a.attribute("href") == Some("/insights/states/TX"))
        .expect("Texas links to its page");
    assert!(tx.attribute("aria-label").unwrap().starts_with("Texas: "));
    assert!(tx.children().any(|c| c.has_tag_name("path")));
}

#[test]
fn a_chart_renders_as_an_html_table_and_csv_with_the_same_figures() {
    let c = monthly();
    let html = html_table(&c);
    roxmltree::Document::parse(&html).unwrap();
    assert!(html.contains("<caption>Contacts by month &amp; channel</caption>"));
    assert!(html.contains(r#"<th scope="row">2026-02</th><td>98</td><td>fewer than 3</td>"#));
    let text = csv(&c);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Month,Phone,SMS <text>");
    assert_eq!(lines[2], "2026-02,98,fewer than 3");
    assert_eq!(lines[4], "2026-04,160,withheld");
    let m = map().as_chart();
    assert_eq!(csv(&m).lines().count(), UsState::ALL.len() + 1);
}

#[test]
fn csv_fields_that_look_like_formulas_are_defused() {
    let mut c = monthly();
    c.categories[0] = "=cmd|' /C calc'!A0".into();
    c.categories[1] = "a,\"b\"".into();
    let text = csv(&c);
    assert!(text.contains("\r\n'=cmd|' /C calc'!A0,"));
    assert!(text.contains("\r\n\"a,\"\"b\"\"\",98,"));
}

/// Needs `rsvg-convert` (Debian's librsvg2-bin): skipped, with a notice, when it is not installed.
#[test]
fn every_chart_renders_in_an_svg_only_viewer() {
    let Ok(out) = std::process::Command::new("rsvg-convert")
        .arg("--version")
        .output()
    else {
        eprintln!("NOTICE: rsvg-convert not installed (apt-get install librsvg2-bin); skipping");
        return;
    };
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    for (name, svg) in rendered() {
        let src = dir.path().join(format!("{name}.svg"));
        let png = dir.path().join(format!("{name}.png"));
        std::fs::write(&src, &svg).unwrap();
        let run = std::process::Command::new("rsvg-convert")
            .arg("-o")
            .arg(&png)
            .arg(&src)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let bytes = std::fs::read(&png).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 2_000,
            "{name}"
        );
        if let Ok(keep) = std::env::var("LANTERN_KEEP_SVG") {
            std::fs::copy(
                &png,
                std::path::Path::new(&keep).join(format!("{name}.png")),
            )
            .unwrap();
            std::fs::copy(
                &src,
                std::path::Path::new(&keep).join(format!("{name}.svg")),
            )
            .unwrap();
        }
    }
}

/// Needs Debian's `chromium`: skipped, with a notice, when it is not installed. A blank page
/// screenshot is a few kilobytes; a drawn map is over 50.
#[test]
fn the_maps_render_in_a_real_browser() {
    if std::process::Command::new("chromium")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("NOTICE: chromium not installed (apt-get install chromium); skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, svg) in [
        ("map", choropleth(&map())),
        ("county-map", county_choropleth(&county_map()).unwrap()),
    ] {
        screenshot_in_chromium(dir.path(), name, &svg);
    }
}

/// Screenshots `svg` in headless Chromium and checks the picture is not blank.
fn screenshot_in_chromium(dir: &std::path::Path, name: &str, svg: &str) {
    let src = dir.join(format!("{name}.svg"));
    let png = dir.join(format!("{name}.png"));
    std::fs::write(&src, svg).unwrap();
    let mut child = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1040,720",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", src.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(90) {
            child.kill().unwrap();
            panic!("chromium did not finish in 90 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"));
    assert!(
        bytes.len() > 50_000,
        "{name}: screenshot looks blank: {} bytes",
        bytes.len()
    );
}
