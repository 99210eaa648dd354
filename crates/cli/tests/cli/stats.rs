//! `lantern stats` and `lantern stats rebuild`, run as an analyst would.

use super::{Install, tamper};
use lantern_store::{AuditCtx, Keyring, NewContact, OpenOptions};
use serde_json::Value;

/// 2025-03-10, 00:00 UTC.
const MARCH_2025_US: i64 = 1_741_564_800_000_000;
/// 2025-05-10, 00:00 UTC.
const MAY_2025_US: i64 = 1_746_835_200_000_000;

/// Five phone contacts from Texas and one text from California in March 2025, one Texas contact in May.
async fn seed(i: &Install) {
    let keys = Keyring::load(&i.key_file()).unwrap();
    let store = lantern_store::open(&i.db().display().to_string(), keys, &OpenOptions::default())
        .await
        .unwrap();
    let h = store.hotline_by_slug("north").await.unwrap().unwrap().id;
    let contact = |state: &str, channel: &str, at: i64| NewContact {
        hotline_id: h.clone(),
        channel: channel.into(),
        state: Some(state.into()),
        category: Some("tip".into()),
        location_precision: "state".into(),
        occurred_at_us: at,
        ..Default::default()
    };
    let mut batch: Vec<NewContact> = (0..5)
        .map(|_| contact("TX", "phone", MARCH_2025_US))
        .collect();
    batch.push(contact("CA", "sms", MARCH_2025_US));
    batch.push(contact("TX", "phone", MAY_2025_US));
    store
        .import_contacts(&AuditCtx::cli(None), &batch)
        .await
        .unwrap();
}

fn stats(i: &Install, extra: &[&str]) -> String {
    let mut args = vec!["stats", "--hotline", "north"];
    args.extend(extra);
    i.ok(&args, None)
}

#[tokio::test]
async fn counts_are_grouped_by_the_keys_asked_within_the_months_asked() {
    let i = Install::new();
    seed(&i).await;

    let csv = stats(
        &i,
        &[
            "--metric",
            "contacts",
            "--group-by",
            "state,channel",
            "--from",
            "2025-03-01",
            "--to",
            "2025-03-31",
        ],
    );
    assert_eq!(
        csv,
        "metric,state,channel,count\ncontacts,CA,sms,1\ncontacts,TX,phone,5\n"
    );

    let all = stats(
        &i,
        &[
            "--metric",
            "contacts,substantive_contacts",
            "--group-by",
            "month",
        ],
    );
    assert_eq!(
        all,
        "metric,month,count\ncontacts,2025-03,6\ncontacts,2025-05,1\n\
         substantive_contacts,2025-03,6\nsubstantive_contacts,2025-05,1\n"
    );

    let json: Value = serde_json::from_str(&stats(
        &i,
        &[
            "--metric",
            "cases",
            "--group-by",
            "form",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(json["group_by"], serde_json::json!(["form"]));
    assert_eq!(json["rows"], serde_json::json!([]), "no case was opened");
}

#[tokio::test]
async fn public_tables_show_no_count_below_the_threshold() {
    let i = Install::new();
    seed(&i).await;

    let csv = stats(
        &i,
        &[
            "--metric",
            "contacts",
            "--group-by",
            "state",
            "--from",
            "2025-03",
            "--to",
            "2025-03",
            "--public",
        ],
    );
    assert!(csv.contains("contacts,CA,fewer than 3"), "{csv}");
    for line in csv.lines().skip(1) {
        let count = line.rsplit(',').next().unwrap();
        if let Ok(n) = count.parse::<u64>() {
            assert!(n == 0 || n >= 3, "a small count was published: {line}");
        }
    }
    // Texas (5) and the total (6) cannot both be shown, or California's 1 follows.
    let shown = |label: &str| {
        csv.lines()
            .any(|l| l.starts_with(&format!("contacts,{label},")) && !l.ends_with("withheld"))
    };
    assert!(!(shown("TX") && shown("(total)")), "{csv}");

    let json: Value = serde_json::from_str(&stats(
        &i,
        &[
            "--metric",
            "contacts",
            "--group-by",
            "state",
            "--format",
            "json",
            "--public",
            "--threshold",
            "11",
        ],
    ))
    .unwrap();
    assert_eq!(json["config"]["threshold"], 11);
    let cells = json["tables"][0]["cells"].as_array().unwrap();
    assert!(
        cells.iter().all(|row| row[0]["kind"] != "value"),
        "every state is below 11: {json}"
    );
}

#[tokio::test]
async fn rebuild_restores_counts_recomputed_from_the_records() {
    let i = Install::new();
    seed(&i).await;
    tamper(&i.db(), "UPDATE rollup_cells SET n = 99").await;
    assert!(
        stats(&i, &["--metric", "contacts"]).contains("contacts,297"),
        "three cells of 99"
    );

    let out = i.ok(&["stats", "rebuild", "--hotline", "north"], None);
    assert!(out.contains("rebuilt"), "{out}");
    assert_eq!(
        stats(&i, &["--metric", "contacts"]),
        "metric,count\ncontacts,7\n"
    );
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let i = Install::new();
    for (args, flag) in [
        (&["--group-by", "state,venue"][..], "--group-by"),
        (&["--from", "2025-02-30"][..], "--from"),
        (&["--to", "last week"][..], "--to"),
        (&["--from", "2025-06", "--to", "2025-01"][..], "--to"),
        (&["--metric", "calls"][..], "--metric"),
        (
            &["--public", "--group-by", "state,form,channel"][..],
            "--group-by",
        ),
        (&["--public", "--threshold", "1"][..], "--threshold"),
    ] {
        let mut all = vec!["stats", "--hotline", "north"];
        all.extend(args);
        let out = i.run(&all, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?} should name {flag}: {err}");
    }
}
