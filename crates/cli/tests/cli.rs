//! The `lantern` binary, run as an operator would.

#[path = "cli/directory.rs"]
mod directory;
#[path = "cli/stats.rs"]
mod stats;

use sqlx::Connection as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Install {
    dir: tempfile::TempDir,
}

impl Install {
    fn new() -> Self {
        let i = Install {
            dir: tempfile::tempdir().unwrap(),
        };
        let out = i.run(
            &[
                "hotlines",
                "add",
                "--slug",
                "north",
                "--name",
                "North Hotline",
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        i
    }

    fn key_file(&self) -> PathBuf {
        self.dir.path().join("lantern.keys")
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("lantern.db")
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lantern"));
        cmd.args(args)
            .env_remove("LANTERN_KEYS")
            .env_remove("LANTERN_CONFIG")
            .env("LANTERN_DATABASE", self.db())
            .env("LANTERN_KEY_FILE", self.key_file())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "lantern {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

async fn tamper(db: &Path, sql: &str) {
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut c)
        .await
        .unwrap();
}

#[tokio::test]
async fn audit_verify_passes_then_names_the_altered_and_the_missing_event() {
    let i = Install::new();
    i.ok(
        &[
            "users",
            "add",
            "--hotline",
            "north",
            "--username",
            "ana",
            "--role",
            "advocate",
            "--full-name",
            "Ana Diaz",
        ],
        Some("a long password 1\n"),
    );
    i.ok(
        &[
            "users",
            "add",
            "--hotline",
            "north",
            "--username",
            "ben",
            "--role",
            "supervisor",
            "--full-name",
            "Ben Ode",
        ],
        Some("a long password 2\n"),
    );
    assert!(i.ok(&["audit", "verify"], None).contains("intact"));

    tamper(&i.db(), "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET action = 'nothing' WHERE seq = 2;").await;
    let out = i.run(&["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("event 2 was altered"));

    tamper(
        &i.db(),
        "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 2;",
    )
    .await;
    let out = i.run(&["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("event 2 is missing"));
}

#[test]
fn users_are_added_from_stdin_listed_disabled_and_bad_input_is_named() {
    let i = Install::new();
    i.ok(
        &[
            "users",
            "add",
            "--hotline",
            "north",
            "--username",
            "ana",
            "--role",
            "advocate",
            "--full-name",
            "Ana Diaz",
            "--phone",
            "555 201 3344",
        ],
        Some("a long password 1\n"),
    );
    let list = i.ok(&["users", "list", "--hotline", "north"], None);
    assert!(list.contains("ana\tadvocate\tactive\tAna Diaz"), "{list}");
    i.ok(&["users", "disable", "--username", "ana"], None);
    assert!(
        i.ok(&["users", "list", "--hotline", "north"], None)
            .contains("disabled")
    );

    let bad = i.run(
        &[
            "users",
            "add",
            "--hotline",
            "north",
            "--username",
            "bo",
            "--role",
            "boss",
            "--full-name",
            "B",
        ],
        Some("short\n"),
    );
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("username") && err.contains("role") && err.contains("password"),
        "{err}"
    );
    let missing = i.run(&["users", "list", "--hotline", "south"], None);
    assert_eq!(
        missing.status.code(),
        Some(2),
        "an unknown hotline is bad input"
    );
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("--hotline: no hotline with slug `south`")
    );
}

#[test]
fn a_token_is_printed_once_and_can_be_revoked() {
    let i = Install::new();
    i.ok(
        &[
            "users",
            "add",
            "--hotline",
            "north",
            "--username",
            "bridge",
            "--role",
            "advocate",
            "--full-name",
            "SMS Bridge",
        ],
        Some("a long password 1\n"),
    );
    let token = i.ok(
        &["tokens", "create", "--username", "bridge", "--name", "sms"],
        None,
    );
    assert!(token.trim().starts_with("lnt_"));
    let list = i.ok(&["tokens", "list", "--username", "bridge"], None);
    assert!(!list.contains(token.trim()), "the secret is never listed");
    let id = list.split('\t').next().unwrap();
    i.ok(
        &["tokens", "revoke", "--username", "bridge", "--id", id],
        None,
    );
    assert!(
        i.ok(&["tokens", "list", "--username", "bridge"], None)
            .contains("revoked")
    );
}

#[test]
fn keys_rotate_reencrypts_and_everything_still_reads() {
    let i = Install::new();
    i.ok(
        &[
            "users",
            "add",
            "--hotline",
            "north",
            "--username",
            "ana",
            "--role",
            "advocate",
            "--full-name",
            "Ana Diaz",
            "--phone",
            "5552013344",
        ],
        Some("a long password 1\n"),
    );
    let out = i.ok(&["keys", "rotate"], None);
    assert!(
        out.contains("data key 2 is now current; re-encrypted 2 values"),
        "{out}"
    );
    assert!(
        i.ok(&["users", "list", "--hotline", "north"], None)
            .contains("Ana Diaz")
    );
    assert!(i.ok(&["audit", "verify"], None).contains("intact"));
    assert!(
        !i.run(&["keys", "init"], None).status.success(),
        "an existing key file is never overwritten"
    );
}

#[test]
fn a_backup_opens_and_verifies() {
    let i = Install::new();
    i.ok(
        &[
            "users",
            "add",
            "--hotline",
            "north",
            "--username",
            "ana",
            "--role",
            "advocate",
            "--full-name",
            "Ana Diaz",
        ],
        Some("a long password 1\n"),
    );
    let target = i.dir.path().join("backup.db");
    i.ok(&["backup", target.to_str().unwrap()], None);
    let verified = i.ok(
        &["--database", target.to_str().unwrap(), "audit", "verify"],
        None,
    );
    assert!(verified.contains("intact"), "{verified}");
    assert!(
        !i.run(&["backup", target.to_str().unwrap()], None)
            .status
            .success(),
        "never overwrites"
    );
}

#[test]
fn a_missing_key_file_for_an_existing_database_is_an_error_not_a_new_key() {
    let i = Install::new();
    std::fs::rename(
        i.dir.path().join("lantern.keys"),
        i.dir.path().join("moved.keys"),
    )
    .unwrap();
    let out = i.run(&["users", "list", "--hotline", "north"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("key file"));
    assert!(!i.dir.path().join("lantern.keys").exists());
}

#[test]
fn the_default_config_is_printed_and_every_command_has_help() {
    let i = Install::new();
    assert!(
        i.ok(&["default-config"], None)
            .contains("idle_minutes = 30")
    );
    for cmd in [
        "serve",
        "demo",
        "migrate",
        "users",
        "tokens",
        "keys",
        "audit",
        "backup",
        "link",
        "directory",
    ] {
        assert!(
            i.ok(&[cmd, "--help"], None).contains("Usage"),
            "{cmd} --help"
        );
    }
}

#[test]
fn lantern_screen_gives_every_table_case_the_same_determination_as_the_rules() {
    let i = Install::new();
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../domain/tests/screening_cases.json")).unwrap();
    for c in cases {
        let out: serde_json::Value =
            serde_json::from_str(&i.ok(&["screen", "-"], Some(&c["answers"].to_string()))).unwrap();
        for key in ["outcome", "forms", "minor_rule_applied", "missing"] {
            assert_eq!(out[key], c["expect"][key], "{}: {key}", c["name"]);
        }
    }
    let bad = i.run(&["screen", "-"], Some(r#"{"purposes": ["sex"]}"#));
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("purposes[0]") && err.contains("commercial_sex"),
        "{err}"
    );
}
