//! SQLite's WAL is copied into the database file beside the writer (its own commits never checkpoint, so
//! no batch stalls behind a checkpoint), and nothing of it is lost on the way.

use lantern_store::rollups::{METRIC_CONTACTS, RollupFilter};
use lantern_store::{AuditCtx, Keyring, NewContact, NewHotline, OpenOptions, Verification};
use std::time::Duration;

#[tokio::test]
async fn the_wal_reaches_the_database_file_while_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lantern.db");
    let keys = Keyring::generate();
    let store = lantern_store::open(
        &file.display().to_string(),
        keys.clone(),
        &OpenOptions::default(),
    )
    .await
    .unwrap();
    let ctx = AuditCtx::system(None);
    let h = store
        .create_hotline(
            &ctx,
            &NewHotline {
                slug: "wal".into(),
                name: "WAL".into(),
            },
        )
        .await
        .unwrap();
    // Let any checkpoint of the migrations pass, then measure the file without the WAL.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = std::fs::metadata(&file).unwrap().len();
    for i in 0..400 {
        store
            .create_contact(
                &ctx,
                &NewContact {
                    hotline_id: h.id.clone(),
                    channel: "phone".into(),
                    location_precision: "state".into(),
                    state: Some("TX".into()),
                    narrative: Some(format!(
                        "Contact {i}: a long enough narrative to fill pages."
                    )),
                    occurred_at_us: 1_700_000_000_000_000 + i,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    // The writer does not checkpoint (wal_autocheckpoint=0); within a few of the checkpointer's seconds
    // the new pages are in the database file itself.
    let mut grown = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if std::fs::metadata(&file).unwrap().len() > before {
            grown = true;
            break;
        }
    }
    assert!(grown, "the database file stayed at {before} bytes");
    let all = RollupFilter {
        metric: Some(METRIC_CONTACTS.into()),
        ..RollupFilter::default()
    };
    let n: i64 = store
        .rollups(&h.id, &all)
        .await
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum();
    assert_eq!(n, 400);
    assert!(matches!(
        store.verify_audit().await.unwrap(),
        Verification::Intact { .. }
    ));
}
