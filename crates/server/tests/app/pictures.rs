//! The SVGs the pages serve (the dashboard's map and charts, a state's charts, the public map) render
//! in an SVG-only viewer (`rsvg-convert`) and in a real browser (headless Chromium), and what they
//! draw is not blank: the map's darkest shade and the charts' first colour are on the picture.
//! Each tool is skipped with a NOTICE when it is not installed (CI installs both).

use crate::helpers::*;
use lantern_domain::account::Role;
use lantern_server::Settings;
use lantern_store::{AuditCtx, NewCase, NewContact};
use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The ramp's darkest blue (the state with the most cases per 100,000) and the charts' first colour.
const DARKEST: [u8; 3] = [0x08, 0x45, 0x94];
const FIRST_SERIES: [u8; 3] = [0x00, 0x72, 0xB2];

async fn seed(app: &TestApp) {
    let ctx = AuditCtx::system(None);
    // Cases are opened now: the contacts happen now too, so that every figure is in this year.
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64;
    for (i, (state, form)) in [
        ("TX", "labor"),
        ("TX", "sex"),
        ("WY", "sex"),
        ("CA", "labor"),
    ]
    .iter()
    .cycle()
    .take(24)
    .enumerate()
    {
        app.store
            .create_contact(
                &ctx,
                &NewContact {
                    hotline_id: app.hotline_id.clone(),
                    channel: if i % 3 == 0 { "sms" } else { "phone" }.into(),
                    signaler_type: Some("community_member".into()),
                    category: Some("tip".into()),
                    location_precision: "state".into(),
                    state: Some((*state).into()),
                    occurred_at_us: now,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        app.store
            .create_case(
                &ctx,
                &NewCase {
                    hotline_id: app.hotline_id.clone(),
                    status: "open".into(),
                    form: (*form).into(),
                    state: Some((*state).into()),
                    details_json: r#"{"typology":["construction"]}"#.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
}

/// Every standalone `<svg …>…</svg>` of a page.
fn svgs(page: &str) -> Vec<String> {
    page.match_indices("<svg ")
        .map(|(i, _)| {
            let end = page[i..].find("</svg>").unwrap() + "</svg>".len();
            page[i..i + end].to_owned()
        })
        .collect()
}

/// Decodes an 8-bit RGB or RGBA, non-interlaced PNG into RGB pixels (what both tools write).
fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let mut pos = 8;
    let (mut w, mut h, mut channels) = (0usize, 0usize, 0usize);
    let mut idat = Vec::new();
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = &bytes[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                h = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "8-bit samples");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
                assert_eq!(data[12], 0, "not interlaced");
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        pos += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = w * channels;
    let mut prev = vec![0u8; stride];
    let mut pixels = Vec::with_capacity(w * h);
    for y in 0..h {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let (filter, src) = (line[0], &line[1..]);
        let mut cur = vec![0u8; stride];
        for x in 0..stride {
            let a = if x >= channels { cur[x - channels] } else { 0 } as i16;
            let b = prev[x] as i16;
            let c = if x >= channels { prev[x - channels] } else { 0 } as i16;
            let pred = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("filter {f}"),
            };
            cur[x] = src[x].wrapping_add(pred as u8);
        }
        for px in cur.chunks(channels) {
            // Composite transparent pixels on white.
            let alpha = if channels == 4 { px[3] as u32 } else { 255 };
            let on_white = |v: u8| ((v as u32 * alpha + 255 * (255 - alpha)) / 255) as u8;
            pixels.push([on_white(px[0]), on_white(px[1]), on_white(px[2])]);
        }
        prev = cur;
    }
    (w, h, pixels)
}

/// Checks that a picture is drawn: at least a third of a percent of its pixels inked (a blank page has
/// none; a one-month line chart about half a percent), and `colour` among them.
fn assert_drawn(name: &str, png: &Path, colour: [u8; 3]) {
    let (w, h, px) = decode_png(&std::fs::read(png).unwrap());
    let inked = px.iter().filter(|p| p.iter().any(|v| *v < 230)).count();
    let near = |p: &[u8; 3]| p.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= 8);
    let coloured = px.iter().filter(|p| near(p)).count();
    assert!(
        inked * 300 > w * h,
        "{name}: only {inked} of {} pixels drawn",
        w * h
    );
    assert!(coloured > 50, "{name}: {coloured} pixels of {colour:02x?}");
}

async fn pictures() -> Vec<(String, String, [u8; 3])> {
    let mut settings = Settings::default();
    settings.statistics.hotline = "test".into();
    let app = TestApp::with_settings(settings).await;
    app.user(Role::Analyst).await;
    seed(&app).await;
    let b = app.login("analyst").await;
    let dashboard = text(app.get("/insights", Some(&b)).await).await;
    let state = text(app.get("/insights/states/TX", Some(&b)).await).await;
    let year = time::OffsetDateTime::now_utc().year();
    let public = text(app.get(&format!("/statistics/US/{year}"), None).await).await;
    let d = svgs(&dashboard);
    let s = svgs(&state);
    let p = svgs(&public);
    assert_eq!(d.len(), 7, "the map and six charts");
    assert!(!s.is_empty() && !p.is_empty());
    let mut out = vec![("dashboard-map".to_owned(), d[0].clone(), DARKEST)];
    // The last chart is referrals by status: this hotline has none, so it is only its axes.
    for (i, svg) in d.iter().enumerate().skip(1).take(5) {
        out.push((format!("dashboard-chart-{i}"), svg.clone(), FIRST_SERIES));
    }
    out.push(("state-trend".into(), s[0].clone(), FIRST_SERIES));
    out.push(("public-map".into(), p[0].clone(), DARKEST));
    out.push(("public-chart".into(), p[1].clone(), FIRST_SERIES));
    out
}

#[tokio::test]
async fn the_served_svgs_render_in_an_svg_only_viewer() {
    if Command::new("rsvg-convert")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("NOTICE: rsvg-convert not installed (apt-get install librsvg2-bin); skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, svg, colour) in pictures().await {
        let src = dir.path().join(format!("{name}.svg"));
        let png = dir.path().join(format!("{name}.png"));
        std::fs::write(&src, &svg).unwrap();
        let run = Command::new("rsvg-convert")
            .arg("-b")
            .arg("white")
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
        assert_drawn(&name, &png, colour);
    }
}

#[tokio::test]
async fn the_served_map_and_charts_render_in_a_real_browser() {
    if Command::new("chromium").arg("--version").output().is_err() {
        eprintln!("NOTICE: chromium not installed (apt-get install chromium); skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let all = pictures().await;
    // The dashboard's map, its trend, a state's chart and the public map.
    for (name, svg, colour) in all.into_iter().filter(|(n, _, _)| {
        [
            "dashboard-map",
            "dashboard-chart-1",
            "state-trend",
            "public-map",
        ]
        .contains(&n.as_str())
    }) {
        let src = dir.path().join(format!("{name}.svg"));
        let png = dir.path().join(format!("{name}.png"));
        std::fs::write(&src, &svg).unwrap();
        let mut child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--window-size=1100,720",
            ])
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join("profile").display()
            ))
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", src.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(120) {
                child.kill().unwrap();
                panic!("{name}: chromium did not finish in 120 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_drawn(&name, &png, colour);
    }
}
