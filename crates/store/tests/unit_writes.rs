//! The one-trip write path (intake as one unit): the audit chain stays one chain when two stores write
//! to one database, and a write abandoned part-way (its request cancelled) leaves nothing half-written.
//! SQLite always; PostgreSQL too when `LANTERN_TEST_DATABASE_URL` is set.

use lantern_store::rollups::{METRIC_CONTACTS, RollupFilter};
use lantern_store::{
    AuditCtx, Keyring, NewContact, NewDetermination, NewHotline, OpenOptions, Store, Verification,
};
use sqlx::Connection as _;
use std::sync::Arc;
use std::time::Duration;

/// Opens two stores on one fresh database; the tempdir (SQLite) must outlive them.
async fn two_stores() -> Vec<(Arc<dyn Store>, Arc<dyn Store>, Option<tempfile::TempDir>)> {
    let keys = Keyring::generate();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lantern.db").display().to_string();
    let opts = OpenOptions::default();
    let mut v = vec![(
        lantern_store::open(&file, keys.clone(), &opts)
            .await
            .unwrap(),
        lantern_store::open(&file, keys.clone(), &opts)
            .await
            .unwrap(),
        Some(dir),
    )];
    if let Ok(base) = std::env::var("LANTERN_TEST_DATABASE_URL") {
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        let name = format!("lantern_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
        let first = lantern_store::open(&url, keys.clone(), &opts)
            .await
            .unwrap();
        let second = lantern_store::open(&url, keys.clone(), &opts)
            .await
            .unwrap();
        v.push((first, second, None));
    }
    v
}

fn contact(hotline_id: &str, i: usize) -> NewContact {
    NewContact {
        hotline_id: hotline_id.into(),
        channel: if i.is_multiple_of(2) { "phone" } else { "web" }.into(),
        location_precision: "state".into(),
        state: Some(["TX", "CA", "NY"][i % 3].into()),
        narrative: Some(format!("narrative {i}")),
        occurred_at_us: 1_700_000_000_000_000 + i as i64 * 86_400_000_000,
        determination: (!i.is_multiple_of(3)).then(|| NewDetermination {
            answers_json: "{}".into(),
            outcome: "possible_trafficking".into(),
            forms: vec!["labor".into()],
            reasons: vec!["because".into()],
            rules_version: "1".into(),
            needs_review: i.is_multiple_of(2),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn contacts_counted(s: &dyn Store, hotline_id: &str) -> i64 {
    let f = RollupFilter {
        metric: Some(METRIC_CONTACTS.into()),
        ..Default::default()
    };
    s.rollups(hotline_id, &f)
        .await
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_database_append_to_one_chain() {
    for (a, b, _dir) in two_stores().await {
        let h = a
            .create_hotline(
                &AuditCtx::cli(None),
                &NewHotline {
                    slug: "alpha".into(),
                    name: "Alpha".into(),
                },
            )
            .await
            .unwrap()
            .id;
        let ctx = AuditCtx::cli(Some(h.clone()));
        // Alternating: each store's remembered head is stale at every one of its writes after the first.
        for i in 0..12_usize {
            let s = if i.is_multiple_of(2) { &a } else { &b };
            s.create_contact(&ctx, &contact(&h, i)).await.unwrap();
        }
        // Both at once.
        let mut tasks = Vec::new();
        for i in 12..60_usize {
            let s = if i.is_multiple_of(2) {
                a.clone()
            } else {
                b.clone()
            };
            let (h, ctx) = (h.clone(), ctx.clone());
            tasks.push(tokio::spawn(async move {
                s.create_contact(&ctx, &contact(&h, i)).await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        for s in [&a, &b] {
            assert_eq!(
                s.verify_audit().await.unwrap(),
                Verification::Intact { events: 61 }
            );
        }
        assert_eq!(contacts_counted(&*a, &h).await, 60);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intake_cancelled_part_way_leaves_nothing_half_written() {
    for (s, _other, _dir) in two_stores().await {
        let h = s
            .create_hotline(
                &AuditCtx::cli(None),
                &NewHotline {
                    slug: "alpha".into(),
                    name: "Alpha".into(),
                },
            )
            .await
            .unwrap()
            .id;
        let ctx = AuditCtx::cli(Some(h.clone()));
        // Writes from several tasks, each given a deadline that cuts some off at every stage of the write.
        let mut tasks = Vec::new();
        for t in 0..8 {
            let (s, h, ctx) = (s.clone(), h.clone(), ctx.clone());
            tasks.push(tokio::spawn(async move {
                let mut done = 0;
                for i in 0..40 {
                    let limit = Duration::from_micros(((t * 40 + i) * 37 % 3000) as u64);
                    let c = contact(&h, i);
                    if let Ok(r) = tokio::time::timeout(limit, s.create_contact(&ctx, &c)).await {
                        r.unwrap();
                        done += 1;
                    }
                }
                done
            }));
        }
        let mut acknowledged = 0;
        for t in tasks {
            acknowledged += t.await.unwrap();
        }
        // One more write after the cancellations, so the last abandoned one is settled before a commit.
        s.create_contact(&ctx, &contact(&h, 0)).await.unwrap();
        let Verification::Intact { events } = s.verify_audit().await.unwrap() else {
            panic!("the chain is broken")
        };
        // Every stored contact has its event (and nothing else was written), acknowledged ones included.
        let counted = contacts_counted(&*s, &h).await;
        assert_eq!(events, 1 + counted);
        assert!(counted > acknowledged);
        let all = RollupFilter::default();
        let incremental = s.rollups(&h, &all).await.unwrap();
        s.rebuild_rollups(&AuditCtx::cli(Some(h.clone())), &h)
            .await
            .unwrap();
        assert_eq!(s.rollups(&h, &all).await.unwrap(), incremental);
    }
}
