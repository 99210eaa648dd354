//! `lantern link` end to end: a small file deduplicated, and bad input named by line or key with
//! exit code 2 and no output written.

use std::path::Path;
use std::process::{Command, Output};

fn link(dir: &Path, input: &str, config: Option<&str>, output: &str) -> Output {
    link_with(dir, input, config, output, &[])
}

fn link_with(
    dir: &Path,
    input: &str,
    config: Option<&str>,
    output: &str,
    extra: &[&str],
) -> Output {
    let input_path = dir.join("in.csv");
    std::fs::write(&input_path, input).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lantern"));
    cmd.arg("link")
        .arg("--input")
        .arg(&input_path)
        .args(["--id", "id", "--output"])
        .arg(dir.join(output));
    if let Some(c) = config {
        let p = dir.join("link.toml");
        std::fs::write(&p, c).unwrap();
        cmd.arg("--config").arg(p);
    }
    cmd.args(extra).output().unwrap()
}

const PEOPLE: &str = "id,first_name,surname,dob,phone\n\
1,Maria,Lopez,1990-05-17,(415) 555-0199\n\
2,María,Lopez,17/05/1990,+1 415 555 0199\n\
3,John,Smith,1971-01-02,212-555-0100\n\
4,Ann,Jones,1985-03-04,312-555-0111\n\
5,Maria,Lopes,1990-05-17,415.555.0199\n";

const CONFIG: &str = "threshold = 0.9\n\
[[field]]\ncolumn = \"first_name\"\nkind = \"name\"\n\
[[field]]\ncolumn = \"surname\"\nkind = \"name\"\n\
[[field]]\ncolumn = \"dob\"\nkind = \"date\"\n\
[[field]]\ncolumn = \"phone\"\nkind = \"phone\"\n\
[[blocking]]\non = [\"phone\"]\n\
[[blocking]]\non = [\"dob\"]\n";

#[test]
fn a_file_is_deduplicated_into_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let out = link(dir.path(), PEOPLE, Some(CONFIG), "clusters.csv");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("clusters.csv")).unwrap();
    let cluster: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let (c, id) = l.split_once(',').unwrap();
            (id.to_owned(), c.to_owned())
        })
        .collect();
    let of = |id: &str| &cluster.iter().find(|(i, _)| i == id).unwrap().1;
    assert_eq!(of("1"), of("2"));
    assert_eq!(of("1"), of("5"));
    assert_ne!(of("1"), of("3"));
    assert_ne!(of("3"), of("4"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("candidate pairs"));
}

#[test]
fn pairs_have_explanations_unless_they_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = link(dir.path(), PEOPLE, Some(CONFIG), "pairs.csv");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("pairs.csv")).unwrap();
    assert!(
        text.starts_with("id_l,id_r,match_probability,match_weight,explanation\n"),
        "{text}"
    );
    assert!(text.contains("phone=exact("), "{text}");
    let out = link_with(
        dir.path(),
        PEOPLE,
        Some(CONFIG),
        "bare.csv",
        &["--no-explanations"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bare = std::fs::read_to_string(dir.path().join("bare.csv")).unwrap();
    assert!(
        bare.starts_with("id_l,id_r,match_probability,match_weight\n"),
        "{bare}"
    );
    assert!(!bare.contains("exact("), "{bare}");
    assert_eq!(bare.lines().count(), text.lines().count());
}

#[test]
fn a_ragged_row_is_named_by_its_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "id,first_name,surname,dob,phone\n1,Ann,Lee,1990-01-01,555-0100\n2,Bob,Lee\n";
    let out = link(dir.path(), bad, Some(CONFIG), "pairs.csv");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "{err}");
    assert!(!dir.path().join("pairs.csv").exists());
}

#[test]
fn an_unknown_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!("{CONFIG}\n[[field]]\ncolumn = \"dob\"\nkind = \"date\"\nweight = 2\n");
    let out = link(dir.path(), PEOPLE, Some(&config), "pairs.csv");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("weight"), "{err}");
    assert!(!dir.path().join("pairs.csv").exists());
}

#[test]
fn an_empty_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for input in ["", "id,first_name,surname,dob,phone\n"] {
        let out = link(dir.path(), input, Some(CONFIG), "pairs.csv");
        assert_eq!(out.status.code(), Some(2), "{input:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("empty"), "{input:?}: {err}");
        assert!(!dir.path().join("pairs.csv").exists());
    }
}
