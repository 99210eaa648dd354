//! The write units (an intake in one trip, an inbound text in two): the audit chain stays one chain when
//! two stores write to one database, and a write abandoned part-way (its request cancelled) leaves
//! nothing half-written.
//! SQLite always; PostgreSQL too when `LANTERN_TEST_DATABASE_URL` is set.

use lantern_store::rollups::{METRIC_CONTACTS, RollupFilter};
use lantern_store::{
    AuditCtx, InboundPlan, Keyring, NewContact, NewDetermination, NewHotline, NewInboundSms,
    OpenOptions, Store, Verification,
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

/// Creates the hotline the tests write to.
async fn alpha(s: &dyn Store) -> String {
    s.create_hotline(
        &AuditCtx::cli(None),
        &NewHotline {
            slug: "alpha".into(),
            name: "Alpha".into(),
        },
    )
    .await
    .unwrap()
    .id
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
        let h = alpha(&*a).await;
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
        let h = alpha(&*s).await;
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
        assert_rollups_equal_a_rebuild(&*s, &h).await;
    }
}

/// The rollups kept by the writes are those a rebuild computes from the records.
async fn assert_rollups_equal_a_rebuild(s: &dyn Store, h: &str) {
    let all = RollupFilter::default();
    let incremental = s.rollups(h, &all).await.unwrap();
    s.rebuild_rollups(&AuditCtx::cli(Some(h.into())), h)
        .await
        .unwrap();
    assert_eq!(s.rollups(h, &all).await.unwrap(), incremental);
}

/// The hotline's conversations (its `sms.list` event is appended).
async fn conversations(s: &dyn Store, h: &str) -> Vec<lantern_store::SmsConversation> {
    s.list_sms_conversations(
        &AuditCtx::cli(Some(h.into())),
        h,
        &lantern_store::SmsConversationFilter {
            status: None,
            limit: 500,
        },
    )
    .await
    .unwrap()
}

/// An inbound text as the webhook hands it to the store; 40 senders, so texts both open and join.
fn text(hotline_id: &str, i: usize) -> NewInboundSms {
    NewInboundSms {
        hotline_id: hotline_id.into(),
        hotline_number: "+18885550100".into(),
        sender: format!("+1555201{:04}", i % 40),
        provider_id: format!("SM{i:032x}"),
        body: format!("text {i}"),
        num_media: 0,
    }
}

/// Every text opens (or joins) a conversation; none is an opt-out word.
fn open_a_conversation(opted_out: bool) -> InboundPlan {
    InboundPlan {
        opted_out,
        open_conversation: true,
        kind: "message".into(),
        auto_reply: None,
        language: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_and_intakes_from_two_stores_append_to_one_chain_and_keep_rollups_exact() {
    for (a, b, _dir) in two_stores().await {
        let h = alpha(&*a).await;
        let ctx = AuditCtx::cli(Some(h.clone()));
        let twilio = AuditCtx::system(None);
        // Texts and intakes from both stores at once, each a redelivered text now and then.
        let mut tasks = Vec::new();
        for i in 0..120_usize {
            let s = if i.is_multiple_of(2) {
                a.clone()
            } else {
                b.clone()
            };
            let (h, ctx, twilio) = (h.clone(), ctx.clone(), twilio.clone());
            tasks.push(tokio::spawn(async move {
                if i.is_multiple_of(3) {
                    s.create_contact(&ctx, &contact(&h, i)).await.unwrap();
                    return 0;
                }
                let sid = if i.is_multiple_of(7) { i - 1 } else { i };
                let r = s
                    .receive_sms(&twilio, &text(&h, sid), &open_a_conversation)
                    .await
                    .unwrap();
                usize::from(!r.duplicate)
            }));
        }
        let mut stored = 0;
        for t in tasks {
            stored += t.await.unwrap();
        }
        let intakes = (0..120).filter(|i| i % 3 == 0).count();
        let conversations = conversations(&*a, &h).await;
        // The hotline's event, one per intake and stored text, one per conversation's contact, and the
        // list's above.
        let events = 1 + intakes + stored + conversations.len() + 1;
        for s in [&a, &b] {
            assert_eq!(
                s.verify_audit().await.unwrap(),
                Verification::Intact {
                    events: events as i64
                }
            );
        }
        assert_eq!(
            contacts_counted(&*a, &h).await,
            (intakes + conversations.len()) as i64
        );
        assert_rollups_equal_a_rebuild(&*a, &h).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_cancelled_part_way_leaves_nothing_half_written() {
    for (s, _other, _dir) in two_stores().await {
        let h = alpha(&*s).await;
        let twilio = AuditCtx::system(None);
        // Texts from several tasks, each given a deadline that cuts some off at every stage of the write,
        // between its two trips included.
        let mut tasks = Vec::new();
        for t in 0..8_usize {
            let (s, h, twilio) = (s.clone(), h.clone(), twilio.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..40_usize {
                    let limit = Duration::from_micros(((t * 40 + i) * 37 % 3000) as u64);
                    let m = text(&h, t * 40 + i);
                    let _ = tokio::time::timeout(
                        limit,
                        s.receive_sms(&twilio, &m, &open_a_conversation),
                    )
                    .await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // One more text after the cancellations, so the last abandoned one is settled before a commit.
        let last = s
            .receive_sms(&twilio, &text(&h, 10_000), &open_a_conversation)
            .await
            .unwrap();
        assert!(!last.duplicate);
        let Verification::Intact { events } = s.verify_audit().await.unwrap() else {
            panic!("the chain is broken")
        };
        // Every stored message has its event, and so has every conversation's contact: nothing else was
        // written, and no message lost its event or the other way round.
        let ctx = AuditCtx::cli(Some(h.clone()));
        let conversations = conversations(&*s, &h).await;
        let mut messages = 0;
        for c in &conversations {
            messages += s.sms_thread(&ctx, &h, &c.id).await.unwrap().messages.len() as i64;
        }
        let contacts = contacts_counted(&*s, &h).await;
        assert_eq!(contacts, conversations.len() as i64);
        assert_eq!(events, 1 + messages + contacts);
        assert_rollups_equal_a_rebuild(&*s, &h).await;
    }
}
