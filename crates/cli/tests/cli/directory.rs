//! `lantern directory import | export | search`, run as an operator would.

use super::Install;
use lantern_store::{Keyring, OpenOptions, Store};
use rstest::rstest;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The HSDS 3.1 examples of `shared/hsds-3.1`, beside the checkout or above it (a worktree may sit
/// deeper than the main checkout).
fn hsds_examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|d| d.join("shared/hsds-3.1/examples"))
        .find(|d| d.is_dir())
        .expect("shared/hsds-3.1/examples beside or above the checkout")
}

/// A directory's records as (table, id, body), sorted, read straight from the store.
type Records = Vec<(String, String, Value)>;

impl Install {
    async fn store(&self) -> Arc<dyn Store> {
        let keys = Keyring::load(&self.key_file()).unwrap();
        lantern_store::open(
            &self.db().display().to_string(),
            keys,
            &OpenOptions::default(),
        )
        .await
        .unwrap()
    }

    async fn records(&self, slug: &str) -> (i64, Records) {
        let store = self.store().await;
        let h = store.hotline_by_slug(slug).await.unwrap().unwrap().id;
        let mut recs: Records = store
            .directory_records(&h)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.table, r.id, serde_json::from_str(&r.json).unwrap()))
            .collect();
        recs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        (store.directory_version(&h).await.unwrap(), recs)
    }

    fn add_hotline(&self, slug: &str) {
        self.ok(
            &[
                "hotlines",
                "add",
                "--slug",
                slug,
                "--name",
                "Another Hotline",
            ],
            None,
        );
    }

    fn import(&self, slug: &str, path: &Path, extra: &[&str]) -> String {
        let mut args = vec!["directory", "import", "--hotline", slug];
        args.extend(extra);
        args.push(path.to_str().unwrap());
        self.ok(&args, None)
    }
}

fn uuid(n: u32) -> String {
    format!("0a11ce00-0000-4000-8000-{n:012}")
}

fn address(id: u32, location: u32, street: &str, zip: &str) -> Value {
    json!({
        "id": uuid(id), "location_id": uuid(location), "address_1": street, "city": "Austin",
        "state_province": "TX", "postal_code": zip, "country": "US", "address_type": "physical"
    })
}

/// Three services in Austin, TX, typed with Open Eligibility terms: a Spanish legal clinic at a public
/// address, an English-only legal aid office, and a Spanish-speaking shelter at a confidential address.
fn austin() -> Value {
    let oe = |id: u32, name: &str| {
        json!({
            "id": uuid(id), "name": name, "description": name, "taxonomy": "Open Eligibility",
            "code": name.to_lowercase()
        })
    };
    let service = |n: u32, name: &str, org: &str, lang: (&str, &str), term: Value, loc: Value| {
        json!({
            "id": uuid(n), "name": name, "status": "active",
            "description": format!("{name}, for survivors of trafficking."),
            "organization": {"id": uuid(n + 10), "name": org, "description": format!("{org} in Austin.")},
            "languages": [{"id": uuid(n + 20), "name": lang.1, "code": lang.0}],
            "attributes": [{"id": uuid(n + 30), "taxonomy_term": term, "link_type": "service_type"}],
            "service_at_locations": [{"id": uuid(n + 40), "location": loc}]
        })
    };
    let location = |n: u32, name: &str, street: &str, redacted: bool| {
        let mut l = json!({
            "id": uuid(n), "location_type": "physical", "name": name,
            "latitude": 30.2711, "longitude": -97.7437,
            "addresses": [address(n + 5, n, street, "78701")],
            "x_lantern": {"time_zone": "America/Chicago"}
        });
        if redacted {
            l["x_lantern"]["location_type"] = json!("redacted");
        }
        l
    };
    json!([
        service(
            1,
            "Ayuda Legal Migrante",
            "Casa Abierta",
            ("es", "Spanish"),
            oe(100, "Legal"),
            location(200, "Casa Abierta office", "200 Congress Avenue", false)
        ),
        service(
            2,
            "Legal Aid for Workers",
            "Capitol Legal Aid",
            ("en", "English"),
            oe(100, "Legal"),
            location(300, "Capitol office", "301 Lavaca Street", false)
        ),
        service(
            3,
            "Refugio Seguro",
            "Refugio Seguro Inc",
            ("es", "Spanish"),
            oe(101, "Emergency Shelter"),
            location(400, "Refugio Seguro house", "17 Hidden Lane", true)
        ),
    ])
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn read_all(path: &Path) -> String {
    if path.is_dir() {
        let mut names: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names.iter().map(|p| read_all(p)).collect()
    } else {
        std::fs::read_to_string(path).unwrap()
    }
}

#[rstest]
#[case("service_full.json")]
#[case("organization_full.json")]
#[case("service_at_location_full.json")]
#[case("location.json")]
#[case("taxonomy.json")]
#[case("taxonomy_term.json")]
#[case("service_list.json")]
#[case("organization_list.json")]
#[case("service_at_location_list.json")]
#[case("taxonomy_list.json")]
#[case("taxonomy_term_list.json")]
#[case("csv")]
#[case("csv/datapackage.json")]
#[tokio::test]
async fn the_specifications_examples_import_with_lanterns_taxonomy(#[case] example: &str) {
    let i = Install::new();

    let out = i.import("north", &hsds_examples().join(example), &[]);

    assert!(
        out.starts_with("imported ") && out.contains("skipped 0"),
        "{out}"
    );
    let (version, recs) = i.records("north").await;
    assert_eq!(version, 1, "one transaction");
    let example_records = recs
        .iter()
        .filter(|(_, id, _)| !id.starts_with("6c616e74-6572-"))
        .count();
    assert!(example_records > 0, "{recs:?}");
    assert!(
        recs.iter()
            .any(|(t, _, v)| t == "taxonomy_term" && v["code"] == "legal_services"),
        "Lantern's taxonomy is installed"
    );
    let store = i.store().await;
    let h = store.hotline_by_slug("north").await.unwrap().unwrap().id;
    let audit = store.recent_audit(&h, 5).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "directory.import"));
}

#[tokio::test]
async fn a_file_with_two_errors_exits_2_naming_both_rows_and_fields_and_changes_nothing() {
    let i = Install::new();
    let good = write(i.dir.path(), "austin.json", &austin().to_string());
    i.import("north", &good, &[]);
    let before = i.records("north").await;
    let bad = write(
        i.dir.path(),
        "bad.ndjson",
        &format!(
            "{}\n{}\n{}\n",
            json!({"id": uuid(900), "name": "Fine", "status": "active"}),
            json!({"id": "not-a-uuid", "name": "Bad id", "status": "active"}),
            json!({"id": uuid(901), "name": "Bad status", "status": "open-ish"}),
        ),
    );

    let out = i.run(
        &[
            "directory",
            "import",
            "--hotline",
            "north",
            "--table",
            "service",
            bad.to_str().unwrap(),
        ],
        None,
    );

    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].ends_with("bad.ndjson:2: service.id: `id` must be a UUID, got `not-a-uuid`"),
        "{err}"
    );
    assert!(
        lines[1].ends_with("bad.ndjson:3: service.status: `status` must be one of active, inactive, defunct, temporarily closed"),
        "{err}"
    );
    assert!(lines[2].starts_with("error: ") && lines[2].contains("nothing was imported"));
    assert_eq!(i.records("north").await, before, "nothing changed");

    let skipped = i.import("north", &bad, &["--table", "service", "--skip-invalid"]);
    assert!(
        skipped.starts_with("imported 1 records (service 1); skipped 2;"),
        "{skipped}"
    );
    let (version, recs) = i.records("north").await;
    assert_eq!(version, before.0 + 1);
    assert!(recs.iter().any(|(_, id, _)| *id == uuid(900)));
}

#[rstest]
#[case("json", "north.json")]
#[case("datapackage", "north-package")]
#[tokio::test]
async fn an_internal_export_imports_back_to_the_same_directory(
    #[case] format: &str,
    #[case] target: &str,
) {
    let i = Install::new();
    let mut dir = lantern_directory::demo::generate(7, 120);
    dir.service
        .values_mut()
        .next()
        .unwrap()
        .extra
        .insert("x_custom".into(), json!("kept"));
    let source = write(
        i.dir.path(),
        "source.ndjson",
        &lantern_directory::io::export_ndjson(&dir),
    );
    i.import("north", &source, &[]);
    let austin = write(i.dir.path(), "austin.json", &austin().to_string());
    i.import("north", &austin, &[]);
    let target = i.dir.path().join(target);

    i.ok(
        &[
            "directory",
            "export",
            "--hotline",
            "north",
            "--format",
            format,
            "--viewer",
            "internal",
            target.to_str().unwrap(),
        ],
        None,
    );
    i.add_hotline("south");
    i.import("south", &target, &[]);

    let (_, north) = i.records("north").await;
    let (_, south) = i.records("south").await;
    assert!(north.len() > 1000, "{}", north.len());
    assert_eq!(north.len(), south.len());
    assert_eq!(north, south);
}

#[rstest]
#[case("json")]
#[case("datapackage")]
#[tokio::test]
async fn a_public_export_never_holds_a_confidential_address(#[case] format: &str) {
    let i = Install::new();
    let file = write(i.dir.path(), "austin.json", &austin().to_string());
    i.import("north", &file, &[]);
    let export = |viewer: &str| {
        let target = i.dir.path().join(format!("{viewer}-{format}"));
        let mut args = vec![
            "directory",
            "export",
            "--hotline",
            "north",
            "--format",
            format,
        ];
        if viewer != "default" {
            args.extend(["--viewer", viewer]);
        }
        args.push(target.to_str().unwrap());
        i.ok(&args, None);
        read_all(&target)
    };

    let public = export("default");
    let partner = export("partner");
    let internal = export("internal");

    for (who, text) in [("public", &public), ("partner", &partner)] {
        assert!(!text.contains("Hidden Lane"), "{who}: {text}");
        assert!(
            text.contains("Refugio Seguro"),
            "{who}: the shelter is listed"
        );
        assert!(
            text.contains("200 Congress Avenue"),
            "{who}: public addresses stay"
        );
    }
    assert!(internal.contains("17 Hidden Lane"));
    let store = i.store().await;
    let h = store.hotline_by_slug("north").await.unwrap().unwrap().id;
    let exports: Vec<Value> = store
        .recent_audit(&h, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "directory.export")
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect();
    assert_eq!(exports.len(), 3);
    assert!(
        exports
            .iter()
            .any(|d| d["viewer"] == "public" && d["format"] == format)
    );
}

#[test]
fn a_search_near_a_zip_for_spanish_legal_help_finds_the_clinic() {
    let i = Install::new();
    let file = write(i.dir.path(), "austin.json", &austin().to_string());
    i.import("north", &file, &[]);
    let search = |extra: &[&str]| {
        let mut args = vec![
            "directory",
            "search",
            "--hotline",
            "north",
            "--zip",
            "78701",
        ];
        args.extend(extra);
        i.ok(&args, None)
    };

    let table = search(&["--type", "legal_services", "--language", "es"]);
    let json: Value =
        serde_json::from_str(&search(&["--type", "legal_services", "--json"])).unwrap();

    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with("NAME") && lines[0].contains("DISTANCE"));
    assert!(lines[1].starts_with("Ayuda Legal Migrante"), "{table}");
    assert!(
        lines[1].contains("Casa Abierta") && lines[1].contains(" km"),
        "{table}"
    );
    assert!(lines[1].ends_with("es"), "{table}");
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["service_name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Ayuda Legal Migrante") && names.contains(&"Legal Aid for Workers"));
}

#[rstest]
#[case(&["--type", "lawyer"], "--type: unknown service_type `lawyer`; allowed: emergency_shelter, long_term_housing, legal_services")]
#[case(&["--population", "kids"], "--population: unknown population `kids`; allowed: ")]
#[case(&["--language", "spanish"], "--language: `spanish` is not an ISO 639 language code")]
#[case(&["--zip", "00000"], "--zip: unknown ZIP code `00000`")]
#[case(&["--zip", "78701", "--city", "Austin, TX"], "--zip: give one place")]
#[case(&["--limit", "0"], "--limit: must be between 1 and 500")]
fn a_bad_search_flag_exits_2_naming_the_flag(#[case] args: &[&str], #[case] expected: &str) {
    let i = Install::new();
    let mut all = vec!["directory", "search", "--hotline", "north"];
    all.extend(args);

    let out = i.run(&all, None);

    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(expected), "{err}");
}

#[test]
fn bad_import_and_export_arguments_exit_2_naming_them() {
    let i = Install::new();
    let missing = i.run(
        &[
            "directory",
            "import",
            "--hotline",
            "north",
            "/nonexistent/x.json",
        ],
        None,
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/x.json: no such file"));

    let not_json = write(i.dir.path(), "notes.json", "this is not JSON\n");
    let out = i.run(
        &[
            "directory",
            "import",
            "--hotline",
            "north",
            not_json.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.json"));

    let format = i.run(
        &[
            "directory",
            "export",
            "--hotline",
            "north",
            "--format",
            "xml",
            "out",
        ],
        None,
    );
    assert_eq!(format.status.code(), Some(2));
    let err = String::from_utf8_lossy(&format.stderr);
    assert!(
        err.contains("--format") && err.contains("datapackage"),
        "{err}"
    );
}
