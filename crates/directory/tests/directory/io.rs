use lantern_directory::demo::generate;
use lantern_directory::io::{
    ImportError, Mode, export_datapackage, export_ndjson, import_datapackage, import_json,
    import_ndjson_tables,
};
use lantern_directory::model::Directory;
use lantern_directory::spec::{Kind, TABLES};
use rstest::rstest;
use std::path::PathBuf;

fn hsds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/hsds-3.1")
}

#[rstest]
#[case("service_full.json", Some("service"))]
#[case("organization_full.json", Some("organization"))]
#[case("service_at_location_full.json", Some("service_at_location"))]
#[case("location.json", Some("location"))]
#[case("taxonomy.json", Some("taxonomy"))]
#[case("taxonomy_term.json", Some("taxonomy_term"))]
#[case("service_list.json", Some("service"))]
#[case("organization_list.json", Some("organization"))]
#[case("service_at_location_list.json", Some("service_at_location"))]
#[case("taxonomy_list.json", Some("taxonomy"))]
#[case("taxonomy_term_list.json", Some("taxonomy_term"))]
#[case("service_full.json", None)]
#[case("location.json", None)]
fn the_specifications_json_examples_import_without_error(
    #[case] file: &str,
    #[case] table: Option<&str>,
) {
    let text = std::fs::read_to_string(hsds().join("examples").join(file)).unwrap();
    let mut dir = Directory::default();
    let report =
        import_json(&mut dir, file, &text, table, Mode::Strict).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.imported > 0 && report.skipped.is_empty());
}

#[test]
fn the_specifications_tabular_example_imports_without_error_and_links_services_to_locations() {
    let mut dir = Directory::default();
    let report = import_datapackage(&mut dir, &hsds().join("examples/csv"), Mode::Strict)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.imported > 10);
    assert!(
        !dir.service.is_empty() && !dir.service_at_location.is_empty() && !dir.address.is_empty()
    );
}

#[test]
fn a_full_service_object_is_flattened_into_linked_tables() {
    let text = std::fs::read_to_string(hsds().join("examples/service_full.json")).unwrap();
    let mut dir = Directory::default();
    import_json(&mut dir, "s.json", &text, None, Mode::Strict).unwrap();
    let svc = dir.service.values().next().unwrap();
    assert!(
        dir.phone
            .values()
            .any(|p| p.service_id.as_ref() == Some(&svc.id))
    );
    assert!(
        dir.organization
            .contains_key(svc.organization_id.as_ref().unwrap())
    );
    assert!(
        dir.service_at_location
            .values()
            .all(|s| s.service_id.as_ref() == Some(&svc.id))
    );
}

#[test]
fn export_then_import_yields_the_same_directory_as_a_data_package_and_as_ndjson() {
    let mut dir = generate(3, 300);
    // An unknown field must survive too.
    dir.service
        .values_mut()
        .next()
        .unwrap()
        .extra
        .insert("x_custom".into(), serde_json::json!("kept"));
    let tmp = tempfile::tempdir().unwrap();

    export_datapackage(&dir, tmp.path()).unwrap();
    let mut back = Directory::default();
    import_datapackage(&mut back, tmp.path(), Mode::Strict).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, dir);

    let mut again = Directory::default();
    import_ndjson_tables(&mut again, "x.ndjson", &export_ndjson(&dir), Mode::Strict).unwrap();
    assert_eq!(again, dir);
}

#[test]
fn a_file_with_errors_is_rejected_whole_with_every_error_by_row_and_field() {
    let text = r#"{"id":"9f1c1f0e-1111-4111-8111-111111111111","name":"Good","status":"active"}
{"id":"not-a-uuid","name":"Bad id","status":"active"}
{"id":"9f1c1f0e-2222-4222-8222-222222222222","status":"closed-ish"}
"#;
    let mut dir = Directory::default();
    let err = import_json(&mut dir, "bad.ndjson", text, Some("service"), Mode::Strict).unwrap_err();
    let ImportError::Invalid(issues) = err else {
        panic!("{err}")
    };
    let got: Vec<(usize, &str)> = issues.iter().map(|i| (i.row, i.field.as_str())).collect();
    assert_eq!(got, vec![(2, "id"), (3, "name"), (3, "status")]);
    assert!(
        issues
            .iter()
            .all(|i| i.file == "bad.ndjson" && i.table == "service")
    );
    assert_eq!(dir, Directory::default(), "nothing changed");

    let report = import_json(
        &mut dir,
        "bad.ndjson",
        text,
        Some("service"),
        Mode::SkipInvalid,
    )
    .unwrap();
    assert_eq!(report.imported, 1);
    assert_eq!(report.skipped.len(), 3);
    assert_eq!(dir.service.len(), 1);
}

#[test]
fn a_csv_with_a_bad_number_names_its_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("locations.csv"),
        "id,location_type,latitude\n9f1c1f0e-1111-4111-8111-111111111111,physical,41.9\n9f1c1f0e-2222-4222-8222-222222222222,physical,north\n",
    )
    .unwrap();
    let mut dir = Directory::default();
    let ImportError::Invalid(issues) =
        import_datapackage(&mut dir, tmp.path(), Mode::Strict).unwrap_err()
    else {
        panic!()
    };
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (
            issues[0].file.as_str(),
            issues[0].row,
            issues[0].field.as_str()
        ),
        ("locations.csv", 3, "latitude")
    );
    assert!(dir.location.is_empty());
}

#[test]
fn the_table_specification_agrees_with_the_hsds_schema_files() {
    for t in TABLES {
        let path = hsds().join("schema").join(format!("{}.json", t.name));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        for f in t.fields {
            assert_eq!(
                f.required,
                required.contains(&f.name),
                "{}.{} required",
                t.name,
                f.name
            );
            let prop = &schema["properties"][f.name];
            if let Some(allowed) = prop["enum"].as_array() {
                let Kind::Enum(ours) = f.kind else {
                    panic!("{}.{} should be an enum", t.name, f.name)
                };
                let theirs: Vec<&str> = allowed.iter().filter_map(|v| v.as_str()).collect();
                assert_eq!(ours, theirs.as_slice(), "{}.{}", t.name, f.name);
            }
            if prop["type"] == "number" {
                assert_eq!(f.kind, Kind::Number, "{}.{}", t.name, f.name);
            }
        }
    }
}

#[test]
fn services_exported_as_full_hsds_objects_import_back_to_the_same_tables() {
    let dir = generate(5, 200);
    let text = lantern_directory::io::export_json(&dir).to_string();
    let mut back = Directory::default();
    import_json(
        &mut back,
        "export.json",
        &text,
        Some("service"),
        Mode::Strict,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.service, dir.service);
    assert_eq!(back.organization, dir.organization);
    assert_eq!(back.service_at_location, dir.service_at_location);
    assert_eq!(back.location, dir.location);
    assert_eq!(back.address, dir.address);
    assert_eq!(back.schedule, dir.schedule);
    assert_eq!(back.language, dir.language);
    assert_eq!(back.phone, dir.phone);
    assert_eq!(back.attribute, dir.attribute);
    assert_eq!(back.service_area, dir.service_area);
}
