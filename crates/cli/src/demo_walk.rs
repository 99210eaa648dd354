//! The insights path a new user walks after `lantern demo`, on a small generated hotline: the
//! analyst's map of cases per 100,000 residents, a state's page and its CSV; then, signed out, the
//! public statistics, where no figure below the threshold appears and the recovery attack over
//! everything a visitor can download finds nothing.

use crate::demo::ensure_demo_sized;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use lantern_insights::gate::{self, Cell, Dimension, GateConfig, PublishedTable, Release};
use lantern_server::{AppState, Settings, auth};
use lantern_store::{Keyring, OpenOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use tower::ServiceExt as _;

const THRESHOLD: u64 = 3;

async fn send(app: &axum::Router, req: Request<Body>) -> Response<Body> {
    app.clone().oneshot(req).await.unwrap()
}

async fn get(app: &axum::Router, path: &str, cookie: Option<&str>) -> Response<Body> {
    let mut req = Request::get(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

async fn text(res: Response<Body>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

fn set_cookie(res: &Response<Body>, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
}

/// Signs in with the demo's printed credentials; returns the session cookie.
async fn login(app: &axum::Router, username: &str, password: &str) -> String {
    let form = get(app, "/login", None).await;
    let csrf_cookie = set_cookie(&form, auth::LOGIN_CSRF_COOKIE).unwrap();
    let html = text(form).await;
    let marker = "name=\"csrf_token\" value=\"";
    let i = html.find(marker).unwrap() + marker.len();
    let csrf = html[i..].split('"').next().unwrap().to_owned();
    let body = serde_urlencoded::to_string([
        ("username", username),
        ("password", password),
        ("csrf_token", &csrf),
    ])
    .unwrap();
    let res = send(
        app,
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(
                header::COOKIE,
                format!("{}={csrf_cookie}", auth::LOGIN_CSRF_COOKIE),
            )
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "login of {username}");
    format!(
        "{}={}",
        auth::SESSION_COOKIE,
        set_cookie(&res, auth::SESSION_COOKIE).unwrap()
    )
}

/// The first `href` after `prefix` in a page.
fn first_link<'a>(page: &'a str, prefix: &str) -> Option<&'a str> {
    let i = page.find(&format!("href=\"{prefix}"))? + "href=\"".len();
    page[i..].split(['"', '?']).next()
}

fn cell_of(v: &Value) -> Cell {
    serde_json::from_value(v.clone()).unwrap()
}

/// Every count a document shows must be 0, at least the threshold, or hidden.
fn assert_nothing_small(doc: &Value, what: &str) {
    for s in doc["sections"].as_array().unwrap() {
        let mut all: Vec<Cell> = s["figures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| cell_of(&f["figure"]))
            .collect();
        all.push(cell_of(&s["total"]));
        for c in all {
            if let Cell::Value(v) = c {
                assert!(
                    v == 0 || v >= THRESHOLD,
                    "{what}: {v} is below the threshold"
                );
            }
        }
    }
}

/// A table being put back together from the downloads.
#[derive(Default)]
struct Pieces {
    universe: String,
    cols: Vec<String>,
    col_totals: Vec<Cell>,
    total: Option<Cell>,
    rows: BTreeMap<String, (Vec<Cell>, Cell)>,
    row_totals: BTreeMap<String, Cell>,
}

fn figures(s: &Value) -> Vec<(String, Cell)> {
    s["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                cell_of(&f["figure"]),
            )
        })
        .collect()
}

/// Puts the release of one year back together from the national and state documents.
fn reassemble(docs: &[Value]) -> Release {
    let mut tables: BTreeMap<String, Pieces> = BTreeMap::new();
    for d in docs {
        for s in d["sections"].as_array().unwrap() {
            let t = tables
                .entry(s["table"].as_str().unwrap().to_owned())
                .or_default();
            t.universe = s["universe"].as_str().unwrap().to_owned();
            let f = figures(s);
            let total = cell_of(&s["total"]);
            match s["part"].as_str().unwrap() {
                "column_totals" => {
                    t.cols = f.iter().map(|(c, _)| c.clone()).collect();
                    t.col_totals = f.iter().map(|(_, v)| *v).collect();
                    t.total = Some(total);
                }
                "row_totals" => {
                    for (c, v) in f {
                        t.row_totals.insert(c, v);
                    }
                }
                "row" => {
                    let row = s["row"].as_str().unwrap().to_owned();
                    t.rows
                        .insert(row, (f.iter().map(|(_, v)| *v).collect(), total));
                }
                other => panic!("unknown part {other}"),
            }
        }
    }
    // Row totals are published once per universe (in its first table): share them.
    let mut by_universe: BTreeMap<String, BTreeMap<String, Cell>> = BTreeMap::new();
    for t in tables.values() {
        by_universe
            .entry(t.universe.clone())
            .or_default()
            .extend(t.row_totals.clone());
    }
    let config = GateConfig::with_threshold(THRESHOLD).unwrap();
    let zeros = if docs.iter().any(|d| d["zeros_hidden"] == true) {
        gate::ZeroRule::Suppress
    } else {
        gate::ZeroRule::Publish
    };
    let tables = tables
        .into_iter()
        .map(|(id, t)| {
            let row_labels: Vec<String> = t.rows.keys().cloned().collect();
            let shared = &by_universe[&t.universe];
            for (r, (_, total)) in &t.rows {
                assert_eq!(
                    shared.get(r),
                    Some(total),
                    "{id}: {r}'s total differs between its page and the national page"
                );
            }
            assert_eq!(
                shared.len(),
                row_labels.len(),
                "{id}: every state of the national table has a page"
            );
            PublishedTable {
                id: id.clone(),
                universe: t.universe,
                rows: Dimension::new("state", row_labels.clone()),
                cols: Some(Dimension::new(id.clone(), t.cols.clone())),
                cells: t.rows.values().map(|(c, _)| c.clone()).collect(),
                row_totals: t.rows.values().map(|(_, tot)| *tot).collect(),
                col_totals: t.col_totals,
                total: t.total.expect("the national page has the grand total"),
            }
        })
        .collect();
    Release {
        config: GateConfig { zeros, ..config },
        tables,
    }
}

#[tokio::test]
async fn after_the_demo_an_analyst_drills_down_and_the_public_statistics_expose_no_small_figure() {
    let dir = tempfile::tempdir().unwrap();
    let store = lantern_store::open(
        &dir.path().join("demo.db").display().to_string(),
        Keyring::generate(),
        &OpenOptions::default(),
    )
    .await
    .unwrap();
    let demo = ensure_demo_sized(&*store, 200).await.unwrap();
    crate::demo_data::load(&*store, &demo.hotline_id, 42, 0.005)
        .await
        .unwrap();
    let mut settings = Settings::default();
    settings.statistics.hotline = "demo".into();
    let app = lantern_server::router(AppState::new(store.clone(), settings));

    // The analyst: the map by cases per 100,000 residents, a state, its CSV.
    let analyst = login(&app, "analyst", "analyst-demo-pass").await;
    let res = get(&app, "/insights", Some(&analyst)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert!(page.contains("Cases per 100,000 residents, by state"));
    let state_link = first_link(&page, "/insights/states/").expect("a state links to its page");
    let res = get(&app, state_link, Some(&analyst)).await;
    assert_eq!(res.status(), StatusCode::OK, "{state_link}");
    let state_page = text(res).await;
    let csv_link = first_link(&state_page, &format!("{state_link}.csv")).unwrap();
    let res = get(&app, csv_link, Some(&analyst)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csv = text(res).await;
    assert!(csv.starts_with("chart,category,series,value"), "{csv}");
    assert!(csv.lines().count() > 10);

    // Cases keep the dates the synthetic history opened them on: the trend spans the years.
    let trend = text(get(&app, "/insights/trend.csv", Some(&analyst)).await).await;
    let months_with_cases = trend
        .lines()
        .skip(1)
        .filter(|l| l.rsplit(',').next().is_some_and(|n| n != "0"))
        .count();
    assert!(
        months_with_cases >= 24,
        "cases in {months_with_cases} months: {trend}"
    );

    // Signed out: the public statistics.
    let res = get(&app, "/statistics", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let index = text(res).await;
    let years: Vec<i32> = index
        .match_indices("href=\"/statistics/US/")
        .filter_map(|(i, _)| {
            index[i + "href=\"/statistics/US/".len()..]
                .split('"')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert!(years.len() >= 2, "the demo spans several years: {years:?}");
    let mut releases = 0;
    for year in years {
        let national = get(&app, &format!("/statistics/US/{year}.json"), None).await;
        assert_eq!(national.status(), StatusCode::OK);
        let national: Value = serde_json::from_str(&text(national).await).unwrap();
        assert_nothing_small(&national, &format!("US {year}"));
        let html = text(get(&app, &format!("/statistics/US/{year}"), None).await).await;
        assert_html_has_nothing_small(&html, &format!("US {year}"));
        let mut docs = vec![national.clone()];
        let states: Vec<String> = national["sections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["part"] == "row_totals")
            .flat_map(|s| figures(s).into_iter().map(|(c, _)| c))
            .filter(|c| c != "unknown")
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for st in &states {
            let res = get(&app, &format!("/statistics/{st}/{year}.json"), None).await;
            assert_eq!(res.status(), StatusCode::OK);
            let doc: Value = serde_json::from_str(&text(res).await).unwrap();
            assert_nothing_small(&doc, &format!("{st} {year}"));
            let csv = text(get(&app, &format!("/statistics/{st}/{year}.csv"), None).await).await;
            for line in csv.lines().skip(1) {
                let v = line.rsplit(',').next().unwrap();
                if let Ok(n) = v.parse::<u64>() {
                    assert!(n == 0 || n >= THRESHOLD, "{st} {year} CSV: {line}");
                }
            }
            let html = text(get(&app, &format!("/statistics/{st}/{year}"), None).await).await;
            assert_html_has_nothing_small(&html, &format!("{st} {year}"));
            docs.push(doc);
        }
        let release = reassemble(&docs);
        let attack = gate::attack(&release);
        assert!(
            !attack.inconsistent,
            "{year}: the downloads contradict each other"
        );
        let hidden = attack.intervals.len();
        let breaches = attack.breaches(&release.config);
        assert!(breaches.is_empty(), "{year}: recovered {breaches:#?}");
        eprintln!(
            "{year}: {} states, {hidden} hidden figures, none recovered",
            states.len()
        );
        assert!(hidden > 0, "a small hotline has small figures to hide");
        releases += 1;
    }
    assert!(releases >= 2);
}

/// In a page's tables of figures, every count is 0, at least the threshold, or hidden.
fn assert_html_has_nothing_small(html: &str, what: &str) {
    let figures = html.split("<h2>All figures</h2>").nth(1).unwrap_or("");
    for td in figures.split("<td>").skip(1) {
        let v = td.split("</td>").next().unwrap();
        match v.parse::<u64>() {
            Ok(n) => assert!(n == 0 || n >= THRESHOLD, "{what}: {v} shown"),
            Err(_) => assert!(
                v == format!("fewer than {THRESHOLD}") || v == "withheld",
                "{what}: `{v}`"
            ),
        }
    }
}
