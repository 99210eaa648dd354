//! Voice calls and rate limits, on every backend.

use super::*;
use lantern_store::{CallFilter, CallLog, NewCallEvent, RollupFilter, StoreError};

const CALL_LINE: &str = "+18885550100";
const CALLER: &str = "+15552017788";

fn event(hotline_id: &str, sid: u32, status: &str) -> NewCallEvent {
    NewCallEvent {
        hotline_id: hotline_id.into(),
        call_sid: format!("CA{sid:032x}"),
        hotline_number: CALL_LINE.into(),
        caller: Some(CALLER.into()),
        direction: "inbound".into(),
        status: status.into(),
        duration_s: None,
        language: Some("es".into()),
    }
}

async fn events_named(s: &dyn Store, hotline_id: &str, action: &str) -> usize {
    s.recent_audit(hotline_id, 500)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == action)
        .count()
}

async fn phone_contacts(s: &dyn Store, hotline_id: &str, signaler: &str) -> i64 {
    s.rollups(
        hotline_id,
        &RollupFilter {
            metric: Some("contacts".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .iter()
    .filter(|c| c.key.channel == "phone" && c.key.signaler_type == signaler)
    .map(|c| c.count)
    .sum()
}

#[tokio::test]
async fn a_call_opens_a_phone_contact_and_its_status_callbacks_move_it_forward_only() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let sys = AuditCtx::system(None);

        let first = s
            .record_call_event(&sys, &event(&a, 1, "ringing"))
            .await
            .unwrap();
        assert!(first.created && first.changed);
        let call = &first.call;
        assert_eq!(call.caller.as_deref(), Some(CALLER));
        assert_eq!(call.status, "ringing");
        assert!(call.ended_at_us.is_none());
        let contact = s.contact(&ctx(), &a, &call.contact_id).await.unwrap();
        assert_eq!(contact.channel, "phone");
        assert_eq!(contact.language.as_deref(), Some("es"));

        // A retry of the first webhook: the same call, nothing changed, no new audit event.
        let audit_before =
            events_named(s, &a, "call.open").await + events_named(s, &a, "call.event").await;
        let retry = s
            .record_call_event(&sys, &event(&a, 1, "ringing"))
            .await
            .unwrap();
        assert!(!retry.created && !retry.changed);
        assert_eq!(retry.call.id, call.id);

        let answered = s
            .record_call_event(&sys, &event(&a, 1, "in-progress"))
            .await
            .unwrap();
        assert!(answered.changed && answered.call.answered_at_us.is_some());
        let mut done = event(&a, 1, "completed");
        done.duration_s = Some(314);
        let ended = s.record_call_event(&sys, &done).await.unwrap();
        assert_eq!(ended.call.status, "completed");
        assert_eq!(ended.call.duration_s, Some(314));
        assert!(ended.call.ended_at_us.is_some() && ended.call.is_final());
        // A late or retried callback moves nothing back.
        for late in ["ringing", "in-progress", "completed", "no-answer"] {
            let r = s
                .record_call_event(&sys, &event(&a, 1, late))
                .await
                .unwrap();
            assert!(!r.changed, "{late}");
            assert_eq!(r.call, ended.call, "{late}");
        }
        let audit_after =
            events_named(s, &a, "call.open").await + events_named(s, &a, "call.event").await;
        assert_eq!(audit_after, audit_before + 2);
        assert_eq!(phone_contacts(s, &a, "").await, 1);

        // The same CallSid at another hotline is another call; another hotline never sees this one.
        let b = hotline(s, "beta").await;
        let other = s
            .record_call_event(&sys, &event(&b, 1, "ringing"))
            .await
            .unwrap();
        assert!(other.created);
        let listed = s
            .list_calls(
                &ctx(),
                &a,
                &CallFilter {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, call.id);
        let live = s
            .list_calls(
                &ctx(),
                &b,
                &CallFilter {
                    live_only: true,
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(live.len(), 1);
        assert!(
            s.list_calls(
                &ctx(),
                &a,
                &CallFilter {
                    live_only: true,
                    limit: 50,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .is_empty()
        );
    }
}

#[tokio::test]
async fn a_withheld_caller_id_is_a_call_without_a_number() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let mut ev = event(&a, 7, "queued");
        ev.caller = None;
        let r = s
            .record_call_event(&AuditCtx::system(None), &ev)
            .await
            .unwrap();
        assert!(r.created && r.call.caller.is_none());
    }
}

#[tokio::test]
async fn a_call_is_taken_once_and_its_log_updates_the_contact_and_the_statistics() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let ana = s
            .create_user(&ctx(), &new_user(&a, "ana", Role::Advocate))
            .await
            .unwrap();
        let bo = s
            .create_user(&ctx(), &new_user(&a, "bonita", Role::Advocate))
            .await
            .unwrap();
        let call = s
            .record_call_event(&AuditCtx::system(None), &event(&a, 2, "queued"))
            .await
            .unwrap()
            .call;

        let taken = s.take_call(&ctx(), &a, &call.id, &ana.id).await.unwrap();
        assert_eq!(taken.advocate_id.as_deref(), Some(ana.id.as_str()));
        // Taking it again is harmless; another advocate cannot take it.
        s.take_call(&ctx(), &a, &call.id, &ana.id).await.unwrap();
        assert!(matches!(
            s.take_call(&ctx(), &a, &call.id, &bo.id).await,
            Err(StoreError::Conflict {
                field: "advocate_id"
            })
        ));
        let b = hotline(s, "beta").await;
        assert!(matches!(
            s.take_call(&ctx(), &b, &call.id, &bo.id).await,
            Err(StoreError::NotFound(_))
        ));

        let start = call.started_at_us;
        let log = CallLog {
            started_at_us: start,
            ended_at_us: Some(start + 600_000_000),
            signaler_type: Some("family_friend".into()),
            interpreter_language: Some("vi".into()),
            interpreter_vendor: Some("Language Line".into()),
            transfer_target: Some("Casa Segura shelter intake".into()),
            transfer_service_id: None,
        };
        let logged = s
            .save_call_log(&ctx(), &a, &call.contact_id, &log, &ana.id)
            .await
            .unwrap();
        assert_eq!(logged.signaler_type.as_deref(), Some("family_friend"));
        assert_eq!(logged.interpreter_language.as_deref(), Some("vi"));
        assert_eq!(logged.interpreter_vendor.as_deref(), Some("Language Line"));
        assert_eq!(
            logged.transfer_target.as_deref(),
            Some("Casa Segura shelter intake")
        );
        assert_eq!(logged.ended_at_us, Some(start + 600_000_000));
        // Twilio's status stays Twilio's.
        assert_eq!(logged.status, "queued");
        let c = s.contact(&ctx(), &a, &call.contact_id).await.unwrap();
        assert_eq!(c.signaler_type.as_deref(), Some("family_friend"));
        assert_eq!(c.interpreter.as_deref(), Some("vi"));
        assert_eq!(phone_contacts(s, &a, "family_friend").await, 1);
        assert_eq!(phone_contacts(s, &a, "").await, 0);
        assert_eq!(
            s.call_of_contact(&ctx(), &a, &call.contact_id)
                .await
                .unwrap()
                .unwrap()
                .id,
            call.id
        );

        // A call that ends before it starts changes nothing.
        let bad = CallLog {
            ended_at_us: Some(start - 1),
            ..log.clone()
        };
        assert!(matches!(
            s.save_call_log(&ctx(), &a, &call.contact_id, &bad, &ana.id)
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(phone_contacts(s, &a, "family_friend").await, 1);
    }
}

#[tokio::test]
async fn a_call_logged_by_hand_opens_its_call_record_and_other_channels_have_none() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let ana = s
            .create_user(&ctx(), &new_user(&a, "ana", Role::Advocate))
            .await
            .unwrap();
        let mk = |channel: &str| lantern_store::NewContact {
            hotline_id: a.clone(),
            channel: channel.into(),
            location_precision: "unknown".into(),
            occurred_at_us: 1_700_000_000_000_000,
            ..Default::default()
        };
        let phone = s.create_contact(&ctx(), &mk("phone")).await.unwrap();
        assert!(
            s.call_of_contact(&ctx(), &a, &phone.id)
                .await
                .unwrap()
                .is_none()
        );
        let log = CallLog {
            started_at_us: 1_700_000_000_000_000,
            ended_at_us: Some(1_700_000_120_000_000),
            signaler_type: Some("victim_survivor".into()),
            ..Default::default()
        };
        let call = s
            .save_call_log(&ctx(), &a, &phone.id, &log, &ana.id)
            .await
            .unwrap();
        assert_eq!(
            (call.status.as_str(), call.duration_s),
            ("completed", Some(120))
        );
        assert!(call.call_sid.is_none() && call.caller.is_none());
        assert_eq!(call.advocate_id.as_deref(), Some(ana.id.as_str()));

        let tip = s.create_contact(&ctx(), &mk("webform")).await.unwrap();
        assert!(matches!(
            s.save_call_log(&ctx(), &a, &tip.id, &log, &ana.id).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(
            s.call_of_contact(&ctx(), &a, &tip.id)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn callers_and_transfer_targets_are_encrypted_and_rotated() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let ana = s
            .create_user(&ctx(), &new_user(&a, "ana", Role::Advocate))
            .await
            .unwrap();
        let call = s
            .record_call_event(&AuditCtx::system(None), &event(&a, 3, "ringing"))
            .await
            .unwrap()
            .call;
        let log = CallLog {
            started_at_us: call.started_at_us,
            transfer_target: Some("Quintanilla legal clinic".into()),
            ..Default::default()
        };
        s.save_call_log(&ctx(), &a, &call.contact_id, &log, &ana.id)
            .await
            .unwrap();
        if db.store.backend() == Backend::Sqlite {
            let dir = std::path::Path::new(&db.url).parent().unwrap().to_owned();
            for entry in std::fs::read_dir(&dir).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                for needle in ["5552017788", "Quintanilla legal"] {
                    assert!(
                        !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                        "found {needle} in plaintext"
                    );
                }
            }
        }
        let mut rotated = db.keys.clone();
        rotated.rotate();
        assert!(s.reencrypt_all(&ctx(), &rotated).await.unwrap() >= 2);
        let mut only_new = rotated.clone();
        only_new.retire_old_keys();
        let reopened = lantern_store::open(&db.url, only_new, &OpenOptions::default())
            .await
            .unwrap();
        let again = reopened
            .call_of_contact(&ctx(), &a, &call.contact_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.caller.as_deref(), Some(CALLER));
        assert_eq!(
            again.transfer_target.as_deref(),
            Some("Quintanilla legal clinic")
        );
    }
}

#[tokio::test]
async fn a_rate_limit_counts_per_key_and_window() {
    for db in backends().await {
        let s = &*db.store;
        let (k1, k2) = (
            db.keys.blind_index("t", "198.51.100.7"),
            db.keys.blind_index("t", "203.0.113.9"),
        );
        for n in 1..=3 {
            let d = s.rate_limit_hit("tip_form", &k1, 3, 3600).await.unwrap();
            assert!(d.allowed && d.count == n, "{d:?}");
        }
        let refused = s.rate_limit_hit("tip_form", &k1, 3, 3600).await.unwrap();
        assert!(!refused.allowed);
        assert!(
            (3590..=3600).contains(&refused.retry_after_s),
            "{refused:?}"
        );
        // Another key, and the same key in another bucket, have their own counts.
        assert!(
            s.rate_limit_hit("tip_form", &k2, 3, 3600)
                .await
                .unwrap()
                .allowed
        );
        assert!(
            s.rate_limit_hit("other", &k1, 3, 3600)
                .await
                .unwrap()
                .allowed
        );
        // A window that ended is forgotten.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let fresh = s.rate_limit_hit("tip_form", &k1, 3, 1).await.unwrap();
        assert!(fresh.allowed && fresh.count == 1, "{fresh:?}");
    }
}
