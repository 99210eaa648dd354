//! The store's contract: one story per capability, run against every backend — SQLite in a temporary
//! directory always, PostgreSQL when `LANTERN_TEST_DATABASE_URL` is set (a fresh database per test).

use lantern_domain::account::{Role, Username};
use lantern_store::audit::Problem;
use lantern_store::{
    AuditCtx, Backend, Keyring, NewHotline, NewSession, NewToken, NewUser, OpenOptions, Store,
    StoreError, UserChange, Verification,
};
use sqlx::Connection as _;
use std::sync::Arc;

/// One backend under test, with what a test needs to reach behind the store's back.
struct Db {
    store: Arc<dyn Store>,
    url: String,
    keys: Keyring,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("lantern.db").display().to_string();
    let keys = Keyring::generate();
    let store = lantern_store::open(&url, keys.clone(), &OpenOptions::default())
        .await
        .unwrap();
    Db {
        store,
        url,
        keys,
        _dir: Some(dir),
    }
}

async fn postgres(base: &str) -> Db {
    let mut admin = sqlx::PgConnection::connect(base).await.unwrap_or_else(|e| {
        panic!("LANTERN_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
    });
    let name = format!("lantern_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (prefix, _) = base
        .rsplit_once('/')
        .expect("database URL ends with /DBNAME");
    let url = format!("{prefix}/{name}");
    let keys = Keyring::generate();
    let store = lantern_store::open(&url, keys.clone(), &OpenOptions::default())
        .await
        .unwrap();
    Db {
        store,
        url,
        keys,
        _dir: None,
    }
}

async fn backends() -> Vec<Db> {
    let mut v = vec![sqlite().await];
    if let Ok(base) = std::env::var("LANTERN_TEST_DATABASE_URL") {
        v.push(postgres(&base).await);
    }
    v
}

fn ctx() -> AuditCtx {
    AuditCtx::cli(None)
}

async fn hotline(s: &dyn Store, slug: &str) -> String {
    s.create_hotline(
        &ctx(),
        &NewHotline {
            slug: slug.into(),
            name: format!("{slug} hotline"),
        },
    )
    .await
    .unwrap()
    .id
}

fn new_user(hotline_id: &str, name: &str, role: Role) -> NewUser {
    NewUser {
        hotline_id: hotline_id.into(),
        username: Username::parse(name).unwrap(),
        role,
        partner_org_id: None,
        full_name: "Esperanza Quintanilla".into(),
        phone: Some("+15552013344".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
    }
}

/// Runs SQL behind the store's back, as an attacker with database access would.
async fn raw(db: &Db, sql: &str) {
    match db.store.backend() {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.url))
                .await
                .unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn users_belong_to_one_hotline_and_usernames_are_unique() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let b = hotline(s, "beta").await;
        let u = s
            .create_user(&ctx(), &new_user(&a, "ana", Role::Advocate))
            .await
            .unwrap();
        assert_eq!(u.full_name, "Esperanza Quintanilla");
        assert_eq!(u.phone.as_deref(), Some("+15552013344"));

        let dup = s
            .create_user(&ctx(), &new_user(&b, "ana", Role::Analyst))
            .await
            .unwrap_err();
        assert!(
            matches!(dup, StoreError::Conflict { field: "username" }),
            "{dup:?}"
        );
        assert!(matches!(
            s.user(&ctx(), &b, &u.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(s.list_users(&ctx(), &b).await.unwrap().len(), 0);
        assert_eq!(s.list_users(&ctx(), &a).await.unwrap().len(), 1);
        assert!(matches!(
            s.create_hotline(
                &ctx(),
                &NewHotline {
                    slug: "alpha".into(),
                    name: "x".into()
                }
            )
            .await,
            Err(StoreError::Conflict { field: "slug" })
        ));
    }
}

#[tokio::test]
async fn partners_need_an_organisation_of_their_own_hotline() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let b = hotline(s, "beta").await;
        let org_b = s
            .create_partner_org(&ctx(), &b, "Casa Segura")
            .await
            .unwrap();
        let mut p = new_user(&a, "partner1", Role::Partner);
        assert!(matches!(
            s.create_user(&ctx(), &p).await,
            Err(StoreError::Invalid(_))
        ));
        p.partner_org_id = Some(org_b.id.clone());
        assert!(matches!(
            s.create_user(&ctx(), &p).await,
            Err(StoreError::NotFound(_))
        ));
        let org_a = s
            .create_partner_org(&ctx(), &a, "Casa Segura")
            .await
            .unwrap();
        p.partner_org_id = Some(org_a.id);
        assert_eq!(s.create_user(&ctx(), &p).await.unwrap().role, Role::Partner);
        let mut adv = new_user(&a, "adv1", Role::Advocate);
        adv.partner_org_id = Some(org_b.id);
        assert!(matches!(
            s.create_user(&ctx(), &adv).await,
            Err(StoreError::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn repeated_failures_lock_an_account_until_unlocked() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let u = s
            .create_user(&ctx(), &new_user(&a, "ana", Role::Advocate))
            .await
            .unwrap();
        for _ in 0..4 {
            assert!(
                !s.record_login_failure(&ctx(), Some(&u.id), 5, time::Duration::minutes(15))
                    .await
                    .unwrap()
            );
        }
        assert!(
            s.record_login_failure(&ctx(), Some(&u.id), 5, time::Duration::minutes(15))
                .await
                .unwrap()
        );
        let (locked, _) = s.user_for_login("ana").await.unwrap().unwrap();
        assert!(!locked.can_authenticate(now()));
        let unlocked = s
            .update_user(
                &ctx(),
                &a,
                &u.id,
                &UserChange {
                    unlock: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(unlocked.can_authenticate(now()));
        assert!(
            !s.record_login_failure(&ctx(), None, 5, time::Duration::minutes(15))
                .await
                .unwrap()
        );
    }
}

fn now() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

#[tokio::test]
async fn sessions_expire_when_idle_and_end_at_logout_or_when_the_user_is_disabled() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let u = s
            .create_user(&ctx(), &new_user(&a, "ana", Role::Advocate))
            .await
            .unwrap();
        let open = |hash: &[u8]| NewSession {
            token_hash: hash.to_vec(),
            user_id: u.id.clone(),
            csrf_token: "csrf".into(),
            expires_at_us: now() + 3_600_000_000,
        };
        s.create_session(&ctx(), &open(b"one")).await.unwrap();
        let (sess, user) = s
            .session(b"one", time::Duration::minutes(30))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (sess.csrf_token.as_str(), user.id.as_str()),
            ("csrf", u.id.as_str())
        );
        assert!(
            s.session(b"one", time::Duration::ZERO)
                .await
                .unwrap()
                .is_none(),
            "idle timeout"
        );
        assert!(
            s.session(b"one", time::Duration::minutes(30))
                .await
                .unwrap()
                .is_none(),
            "an expired session is gone"
        );

        s.create_session(&ctx(), &open(b"two")).await.unwrap();
        s.delete_session(&ctx(), b"two").await.unwrap();
        assert!(
            s.session(b"two", time::Duration::minutes(30))
                .await
                .unwrap()
                .is_none()
        );

        s.create_session(&ctx(), &open(b"three")).await.unwrap();
        s.update_user(
            &ctx(),
            &a,
            &u.id,
            &UserChange {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            s.session(b"three", time::Duration::minutes(30))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.session(b"unknown", time::Duration::minutes(30))
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn a_revoked_token_or_a_disabled_user_no_longer_authenticates() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let b = hotline(s, "beta").await;
        let u = s
            .create_user(&ctx(), &new_user(&a, "ana", Role::Advocate))
            .await
            .unwrap();
        let mk = |hash: &[u8], hl: &str| NewToken {
            user_id: u.id.clone(),
            hotline_id: hl.into(),
            name: "bridge".into(),
            prefix: "lnt_abcd".into(),
            token_hash: hash.to_vec(),
        };
        assert!(
            s.create_token(&ctx(), &mk(b"x", &b)).await.is_err(),
            "a token for a user of another hotline"
        );
        let t = s.create_token(&ctx(), &mk(b"t1", &a)).await.unwrap();
        assert_eq!(s.token(b"t1").await.unwrap().unwrap().1.id, u.id);
        assert!(matches!(
            s.revoke_token(&ctx(), &b, &t.id).await,
            Err(StoreError::NotFound(_))
        ));
        s.revoke_token(&ctx(), &a, &t.id).await.unwrap();
        assert!(s.token(b"t1").await.unwrap().is_none());
        assert!(
            s.list_tokens(&a, &u.id).await.unwrap()[0]
                .revoked_at_us
                .is_some()
        );

        s.create_token(&ctx(), &mk(b"t2", &a)).await.unwrap();
        s.update_user(
            &ctx(),
            &a,
            &u.id,
            &UserChange {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(s.token(b"t2").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn the_audit_chain_verifies_and_names_an_altered_event() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        for i in 0..5 {
            s.create_user(&ctx(), &new_user(&a, &format!("user{i}"), Role::Advocate))
                .await
                .unwrap();
        }
        assert_eq!(
            s.verify_audit().await.unwrap(),
            Verification::Intact { events: 6 }
        );
        assert_eq!(s.recent_audit(&a, 2).await.unwrap()[0].seq, 6);

        let sql = match s.backend() {
            Backend::Sqlite => {
                "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'someone' WHERE seq = 3;"
            }
            Backend::Postgres => {
                "DROP TRIGGER audit_events_no_change ON audit_events; UPDATE audit_events SET actor = 'someone' WHERE seq = 3;"
            }
        };
        raw(&db, sql).await;
        assert_eq!(
            s.verify_audit().await.unwrap(),
            Verification::Broken {
                seq: 3,
                problem: Problem::Altered
            }
        );
    }
}

#[tokio::test]
async fn the_audit_chain_names_a_deleted_event_and_a_cut_off_tail() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        for i in 0..5 {
            s.create_user(&ctx(), &new_user(&a, &format!("user{i}"), Role::Advocate))
                .await
                .unwrap();
        }
        let drop = match s.backend() {
            Backend::Sqlite => "DROP TRIGGER audit_events_no_delete;",
            Backend::Postgres => "DROP TRIGGER audit_events_no_change ON audit_events;",
        };
        raw(
            &db,
            &format!("{drop} DELETE FROM audit_events WHERE seq = 6;"),
        )
        .await;
        assert_eq!(
            s.verify_audit().await.unwrap(),
            Verification::Broken {
                seq: 6,
                problem: Problem::Missing
            }
        );
        raw(&db, "DELETE FROM audit_events WHERE seq = 2;").await;
        assert_eq!(
            s.verify_audit().await.unwrap(),
            Verification::Broken {
                seq: 2,
                problem: Problem::Missing
            }
        );
    }
}

#[tokio::test]
async fn the_database_refuses_changes_to_audit_events() {
    for db in backends().await {
        let s = &*db.store;
        hotline(s, "alpha").await;
        let attempt = async {
            match s.backend() {
                Backend::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.url))
                        .await
                        .unwrap();
                    sqlx::query("DELETE FROM audit_events")
                        .execute(&mut c)
                        .await
                        .map(|_| ())
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
                    sqlx::query("UPDATE audit_events SET actor = 'x'")
                        .execute(&mut c)
                        .await
                        .map(|_| ())
                }
            }
        };
        assert!(attempt.await.is_err());
        assert_eq!(
            s.verify_audit().await.unwrap(),
            Verification::Intact { events: 1 }
        );
    }
}

#[tokio::test]
async fn a_forged_chain_without_the_key_is_detected() {
    for db in backends().await {
        let s = &*db.store;
        hotline(s, "alpha").await;
        // Another installation's keys cannot verify this chain: seals depend on the audit key.
        let other = lantern_store::open(&db.url, Keyring::generate(), &OpenOptions::default())
            .await
            .unwrap();
        assert_eq!(
            other.verify_audit().await.unwrap(),
            Verification::Broken {
                seq: 1,
                problem: Problem::Altered
            }
        );
        assert!(matches!(
            s.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
    }
}

#[tokio::test]
async fn rotation_reencrypts_every_value_under_the_new_key() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let u = s
            .create_user(&ctx(), &new_user(&a, "ana", Role::Advocate))
            .await
            .unwrap();
        let mut rotated = db.keys.clone();
        rotated.rotate();
        assert_eq!(s.reencrypt_all(&ctx(), &rotated).await.unwrap(), 2);
        assert_eq!(
            s.reencrypt_all(&ctx(), &rotated).await.unwrap(),
            0,
            "a second run finds nothing to do"
        );
        let mut only_new = rotated.clone();
        only_new.retire_old_keys();
        let reopened = lantern_store::open(&db.url, only_new, &OpenOptions::default())
            .await
            .unwrap();
        assert_eq!(
            reopened.user(&ctx(), &a, &u.id).await.unwrap().full_name,
            "Esperanza Quintanilla"
        );
        assert!(matches!(
            reopened.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
    }
}

#[tokio::test]
async fn the_raw_sqlite_file_holds_neither_the_name_nor_the_phone_number() {
    let db = sqlite().await;
    let a = hotline(&*db.store, "alpha").await;
    for i in 0..20 {
        db.store
            .create_user(&ctx(), &new_user(&a, &format!("user{i}"), Role::Advocate))
            .await
            .unwrap();
    }
    let dir = std::path::Path::new(&db.url).parent().unwrap().to_owned();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        seen += bytes.len();
        for needle in [
            "Esperanza",
            "Quintanilla",
            "5552013344",
            "555-201",
            "201-3344",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "found {needle} in plaintext"
            );
        }
    }
    assert!(seen > 10_000, "the database files were read ({seen} bytes)");
}

#[tokio::test]
async fn a_backup_taken_while_writes_go_on_opens_and_verifies() {
    let db = sqlite().await;
    let a = hotline(&*db.store, "alpha").await;
    let writer = {
        let store = db.store.clone();
        let a = a.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                store
                    .create_user(&ctx(), &new_user(&a, &format!("writer{i}"), Role::Advocate))
                    .await
                    .unwrap();
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let target = std::path::Path::new(&db.url).with_file_name("backup.db");
    db.store.backup(&ctx(), &target).await.unwrap();
    writer.await.unwrap();
    assert!(
        db.store.backup(&ctx(), &target).await.is_err(),
        "an existing file is never overwritten"
    );

    let copy = lantern_store::open(
        target.to_str().unwrap(),
        db.keys.clone(),
        &OpenOptions::default(),
    )
    .await
    .unwrap();
    let Verification::Intact { events } = copy.verify_audit().await.unwrap() else {
        panic!("backup chain broken")
    };
    let users = copy.list_users(&ctx(), &a).await.unwrap();
    assert_eq!(
        events as usize,
        users.len() + 1,
        "the snapshot is consistent: one event per user plus the hotline"
    );
    assert!(matches!(
        db.store.verify_audit().await.unwrap(),
        Verification::Intact { .. }
    ));
}

// ---- the core loop ----

fn contact(
    hotline_id: &str,
    case_id: Option<&str>,
    needs_review: bool,
) -> lantern_store::NewContact {
    lantern_store::NewContact {
        hotline_id: hotline_id.into(),
        case_id: case_id.map(Into::into),
        channel: "phone".into(),
        signaler_type: Some("victim_survivor".into()),
        category: Some("crisis".into()),
        language: Some("es".into()),
        state: Some("TX".into()),
        zip: Some("78701".into()),
        city: Some("Austin".into()),
        location_precision: "zip".into(),
        safe_to_talk: Some("yes".into()),
        safe_contact: Some(r#"{"allowed":true,"code_word":"azul"}"#.into()),
        interpreter: None,
        narrative: Some("Marisol says her employer keeps her passport".into()),
        occurred_at_us: now(),
        created_by: None,
        determination: Some(lantern_store::NewDetermination {
            answers_json: r#"{"subject_age":16,"purposes":["commercial_sex"]}"#.into(),
            outcome: "likely_trafficking".into(),
            forms: vec!["sex".into()],
            minor_rule_applied: true,
            missing: vec![],
            reasons: vec!["A minor in commercial sex.".into()],
            rules_version: "test".into(),
            needs_review,
        }),
        ..Default::default()
    }
}

fn new_case(hotline_id: &str, state: &str) -> lantern_store::NewCase {
    lantern_store::NewCase {
        hotline_id: hotline_id.into(),
        status: "open".into(),
        form: "sex".into(),
        state: Some(state.into()),
        details_json: "{}".into(),
        safety_plan: Some("Leave through the back door at 6".into()),
        assignee_id: None,
        opened_at_us: None,
    }
}

#[tokio::test]
async fn a_contact_joins_a_case_whose_file_shows_everything_decrypted() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let c = s
            .create_contact(&ctx(), &contact(&a, None, true))
            .await
            .unwrap();
        assert_eq!(
            c.narrative.as_deref(),
            Some("Marisol says her employer keeps her passport")
        );
        assert_eq!(
            c.determinations[0].review_status.as_deref(),
            Some("pending")
        );
        let case = s.create_case(&ctx(), &new_case(&a, "TX")).await.unwrap();
        let case2 = s.create_case(&ctx(), &new_case(&a, "CA")).await.unwrap();
        assert_eq!(
            (case.number, case2.number),
            (1, 2),
            "numbers run per hotline"
        );
        s.attach_contact(&ctx(), &a, &c.id, &case.id).await.unwrap();
        let party = s
            .add_party(
                &ctx(),
                &a,
                &lantern_store::NewParty {
                    case_id: case.id.clone(),
                    role: "suspected_trafficker".into(),
                    identifiers: vec![lantern_store::NewIdentifier {
                        kind: "phone".into(),
                        value: "(555) 201-3344".into(),
                        lookup: Some("+15552013344".into()),
                    }],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(party.identifiers[0].value, "(555) 201-3344");
        s.add_task(&ctx(), &a, &case.id, "Call back Tuesday", None, None)
            .await
            .unwrap();
        s.add_note(&ctx(), &a, &case.id, "Prefers Spanish")
            .await
            .unwrap();

        let file = s.case_file(&ctx(), &a, &case.id).await.unwrap();
        assert_eq!(file.contacts.len(), 1);
        assert_eq!(
            file.contacts[0].determinations[0].case_id.as_deref(),
            Some(case.id.as_str())
        );
        assert_eq!(file.parties.len(), 1);
        assert_eq!(file.tasks[0].title, "Call back Tuesday");
        assert_eq!(file.notes[0].body, "Prefers Spanish");
        assert_eq!(
            file.case.safety_plan.as_deref(),
            Some("Leave through the back door at 6")
        );

        let other = hotline(s, "beta").await;
        assert!(
            s.case_file(&ctx(), &other, &case.id).await.is_err(),
            "never across hotlines"
        );
        assert!(
            s.attach_contact(&ctx(), &other, &c.id, &case.id)
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn cases_are_found_by_filters_and_by_a_shared_identifier() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let tx = s.create_case(&ctx(), &new_case(&a, "TX")).await.unwrap();
        let ca = s.create_case(&ctx(), &new_case(&a, "CA")).await.unwrap();
        let bidx = db.keys.blind_index("phone", "+15552013344");
        s.add_party(
            &ctx(),
            &a,
            &lantern_store::NewParty {
                case_id: ca.id.clone(),
                role: "suspected_trafficker".into(),
                identifiers: vec![lantern_store::NewIdentifier {
                    kind: "phone".into(),
                    value: "555-201-3344".into(),
                    lookup: Some("+15552013344".into()),
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let all = lantern_store::CaseFilter {
            limit: 50,
            ..Default::default()
        };
        assert_eq!(s.list_cases(&ctx(), &a, &all).await.unwrap().1, 2);
        let texas = lantern_store::CaseFilter {
            state: Some("TX".into()),
            ..all.clone()
        };
        let (rows, total) = s.list_cases(&ctx(), &a, &texas).await.unwrap();
        assert_eq!((rows[0].case.id.as_str(), total), (tx.id.as_str(), 1));
        let by_phone = lantern_store::CaseFilter {
            identifier: Some(("phone".into(), bidx.clone())),
            ..all.clone()
        };
        assert_eq!(
            s.list_cases(&ctx(), &a, &by_phone).await.unwrap().0[0]
                .case
                .id,
            ca.id
        );
        let by_number = lantern_store::CaseFilter {
            number: Some(tx.number),
            ..all.clone()
        };
        assert_eq!(
            s.list_cases(&ctx(), &a, &by_number).await.unwrap().0[0]
                .case
                .id,
            tx.id
        );

        let sharing = s
            .open_cases_sharing(&a, &[("phone".into(), bidx.clone())])
            .await
            .unwrap();
        assert_eq!(sharing.len(), 1);
        s.update_case(
            &ctx(),
            &a,
            &ca.id,
            &lantern_store::CaseChange {
                status: Some("closed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            s.open_cases_sharing(&a, &[("phone".into(), bidx)])
                .await
                .unwrap()
                .is_empty(),
            "closed cases are not suggested"
        );
    }
}

#[tokio::test]
async fn a_supervisor_confirms_or_returns_a_pending_determination_once() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let c1 = s
            .create_contact(&ctx(), &contact(&a, None, true))
            .await
            .unwrap();
        s.create_contact(&ctx(), &contact(&a, None, false))
            .await
            .unwrap();
        let queue = s.review_queue(&a, "pending", 50).await.unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0].channel, "phone");
        let d = &c1.determinations[0];
        let decided = s
            .decide_review(&ctx(), &a, &d.id, "returned", Some("Ask about compulsion"))
            .await
            .unwrap();
        assert_eq!(
            decided.review_comment.as_deref(),
            Some("Ask about compulsion")
        );
        assert!(s.review_queue(&a, "pending", 50).await.unwrap().is_empty());
        assert!(
            s.decide_review(&ctx(), &a, &d.id, "confirmed", None)
                .await
                .is_err(),
            "decided once"
        );
        assert!(
            s.decide_review(&ctx(), &a, &d.id, "maybe", None)
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn narratives_and_party_identifiers_never_reach_the_file_in_plaintext() {
    let db = sqlite().await;
    let s = &*db.store;
    let a = hotline(s, "alpha").await;
    let case = s.create_case(&ctx(), &new_case(&a, "TX")).await.unwrap();
    for _ in 0..10 {
        s.create_contact(&ctx(), &contact(&a, Some(&case.id), true))
            .await
            .unwrap();
    }
    s.add_party(
        &ctx(),
        &a,
        &lantern_store::NewParty {
            case_id: case.id.clone(),
            role: "potential_victim".into(),
            identifiers: vec![lantern_store::NewIdentifier {
                kind: "name".into(),
                value: "Marisol Etxeberria".into(),
                lookup: Some("marisol etxeberria|TX".into()),
            }],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let dir = std::path::Path::new(&db.url).parent().unwrap().to_owned();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for needle in [
            "Marisol",
            "Etxeberria",
            "passport",
            "Austin",
            "azul",
            "back door",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "found {needle} in plaintext"
            );
        }
    }
}

#[tokio::test]
async fn concurrent_writes_where_some_fail_keep_every_success_and_an_intact_chain() {
    for db in backends().await {
        let s = db.store.clone();
        let a = hotline(&*s, "alpha").await;
        let mut tasks = Vec::new();
        for i in 0..60 {
            let s = s.clone();
            let a = a.clone();
            // Every third username repeats an earlier one: those writes fail with a conflict.
            let name = if i % 3 == 2 {
                format!("user{}", i - 1)
            } else {
                format!("user{i}")
            };
            tasks.push(tokio::spawn(async move {
                s.create_user(&ctx(), &new_user(&a, &name, Role::Advocate))
                    .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Conflict { field: "username" }) => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!(ok, 40);
        assert_eq!(s.list_users(&ctx(), &a).await.unwrap().len(), 40);
        // hotline + 40 users + the list read above
        assert_eq!(
            s.verify_audit().await.unwrap(),
            Verification::Intact { events: 42 }
        );
    }
}

#[tokio::test]
async fn an_intake_opens_its_case_and_parties_in_one_transaction() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let mut c = contact(&a, None, true);
        c.open_case = Some(new_case(&a, "TX"));
        c.parties = vec![lantern_store::NewParty {
            role: "potential_victim".into(),
            age: Some(16),
            identifiers: vec![lantern_store::NewIdentifier {
                kind: "phone".into(),
                value: "555 201 3344".into(),
                lookup: Some("+15552013344".into()),
            }],
            ..Default::default()
        }];
        let saved = s.create_contact(&ctx(), &c).await.unwrap();
        let case_id = saved.case_id.clone().expect("a case was opened");
        assert_eq!(
            saved.determinations[0].case_id.as_deref(),
            Some(case_id.as_str())
        );
        let file = s.case_file(&ctx(), &a, &case_id).await.unwrap();
        assert_eq!((file.contacts.len(), file.parties.len()), (1, 1));

        // Parties without a case are refused, and nothing of that contact is written.
        let mut orphan = contact(&a, None, false);
        orphan.parties = c.parties.clone();
        assert!(matches!(
            s.create_contact(&ctx(), &orphan).await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(
            s.list_cases(
                &ctx(),
                &a,
                &lantern_store::CaseFilter {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .1,
            1
        );
        assert!(matches!(
            s.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
    }
}

#[tokio::test]
async fn contacts_and_tasks_are_listed_and_a_party_is_rewritten() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let case = s.create_case(&ctx(), &new_case(&a, "TX")).await.unwrap();
        s.create_contact(&ctx(), &contact(&a, Some(&case.id), false))
            .await
            .unwrap();
        let mut sms = contact(&a, None, false);
        sms.channel = "sms".into();
        s.create_contact(&ctx(), &sms).await.unwrap();
        let all = lantern_store::ContactFilter {
            limit: 10,
            ..Default::default()
        };
        assert_eq!(s.list_contacts(&ctx(), &a, &all).await.unwrap().1, 2);
        let loose = lantern_store::ContactFilter {
            unattached: true,
            ..all.clone()
        };
        let (rows, n) = s.list_contacts(&ctx(), &a, &loose).await.unwrap();
        assert_eq!((n, rows[0].channel.as_str()), (1, "sms"));
        assert_eq!(rows[0].determinations.len(), 1);
        let phone = lantern_store::ContactFilter {
            channel: Some("phone".into()),
            ..all.clone()
        };
        assert_eq!(
            s.list_contacts(&ctx(), &a, &phone).await.unwrap().0[0]
                .case_id
                .as_deref(),
            Some(case.id.as_str())
        );

        s.add_task(&ctx(), &a, &case.id, "later", None, None)
            .await
            .unwrap();
        let t = s
            .add_task(&ctx(), &a, &case.id, "soon", Some(1), None)
            .await
            .unwrap();
        let tasks = s.list_tasks(&ctx(), &a, None, false, 10).await.unwrap();
        assert_eq!(
            tasks.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(),
            ["soon", "later"],
            "due first"
        );
        s.set_task_done(&ctx(), &a, &t.id, true).await.unwrap();
        assert_eq!(
            s.list_tasks(&ctx(), &a, None, false, 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            s.list_tasks(&ctx(), &a, None, true, 10)
                .await
                .unwrap()
                .len(),
            2
        );

        let p = s
            .add_party(
                &ctx(),
                &a,
                &lantern_store::NewParty {
                    case_id: case.id.clone(),
                    role: "potential_victim".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let rewritten = s
            .update_party(
                &ctx(),
                &a,
                &p.id,
                &lantern_store::NewParty {
                    age: Some(19),
                    identifiers: vec![lantern_store::NewIdentifier {
                        kind: "email".into(),
                        value: "x@y.org".into(),
                        lookup: Some("x@y.org".into()),
                    }],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (
                rewritten.age,
                rewritten.identifiers.len(),
                rewritten.role.as_str()
            ),
            (Some(19), 1, "potential_victim")
        );
        let by_email = s
            .open_cases_sharing(
                &a,
                &[("email".into(), db.keys.blind_index("email", "x@y.org"))],
            )
            .await
            .unwrap();
        assert_eq!(by_email.len(), 1);
    }
}

fn record(table: &str, id: &str, json: serde_json::Value) -> lantern_store::DirectoryRecord {
    lantern_store::DirectoryRecord {
        table: table.into(),
        id: id.into(),
        json: json.to_string(),
    }
}

#[tokio::test]
async fn the_directory_is_written_in_versions_and_read_back_per_hotline() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let b = hotline(s, "beta").await;
        assert_eq!(s.directory_version(&a).await.unwrap(), 0);
        let v1 = s
            .change_directory(
                &ctx(),
                &a,
                &lantern_store::DirectoryChange {
                    action: "directory.import".into(),
                    upserts: vec![
                        record(
                            "organization",
                            "o1",
                            serde_json::json!({"id": "o1", "name": "Casa Segura"}),
                        ),
                        record(
                            "location",
                            "l1",
                            serde_json::json!({"id": "l1", "name": "Shelter"}),
                        ),
                        record(
                            "address",
                            "d1",
                            serde_json::json!({"id": "d1", "address_1": "12 Hidden Lane"}),
                        ),
                    ],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(v1, 1);
        // The same ids in another hotline are other records.
        s.change_directory(
            &ctx(),
            &b,
            &lantern_store::DirectoryChange {
                upserts: vec![record(
                    "organization",
                    "o1",
                    serde_json::json!({"id": "o1", "name": "Other"}),
                )],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let v2 = s
            .change_directory(
                &ctx(),
                &a,
                &lantern_store::DirectoryChange {
                    action: "directory.update".into(),
                    upserts: vec![record(
                        "organization",
                        "o1",
                        serde_json::json!({"id": "o1", "name": "Casa Segura Inc."}),
                    )],
                    deletes: vec![("address".into(), "d1".into())],
                    replace_all: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(v2, 2);
        let recs = s.directory_records(&a).await.unwrap();
        let names: Vec<(String, String)> = recs
            .iter()
            .map(|r| (r.table.clone(), r.id.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("location".into(), "l1".into()),
                ("organization".into(), "o1".into())
            ]
        );
        assert!(recs[1].json.contains("Casa Segura Inc."));
        assert_eq!(s.directory_records(&b).await.unwrap().len(), 1);
        // A replacing import leaves only what it brings.
        s.change_directory(
            &ctx(),
            &a,
            &lantern_store::DirectoryChange {
                upserts: vec![record(
                    "service",
                    "s1",
                    serde_json::json!({"id": "s1", "name": "Legal aid"}),
                )],
                replace_all: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let recs = s.directory_records(&a).await.unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(s.directory_version(&a).await.unwrap(), 3);
        assert!(matches!(
            s.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
    }
}

#[tokio::test]
async fn a_referral_follows_its_lifecycle_and_reaches_only_its_partner() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let case = s.create_case(&ctx(), &new_case(&a, "TX")).await.unwrap();
        let org = s
            .create_partner_org(&ctx(), &a, "Casa Segura")
            .await
            .unwrap();
        let other = s.create_partner_org(&ctx(), &a, "Elsewhere").await.unwrap();
        s.link_partner_org(&ctx(), &a, &org.id, Some("o1"))
            .await
            .unwrap();
        let orgs = s.list_partner_orgs(&a).await.unwrap();
        assert_eq!(
            orgs.iter()
                .find(|o| o.id == org.id)
                .unwrap()
                .directory_organization_id
                .as_deref(),
            Some("o1")
        );
        let new = lantern_store::NewReferral {
            hotline_id: a.clone(),
            case_id: case.id.clone(),
            kind: "service".into(),
            status: "sent".into(),
            service_id: Some("s1".into()),
            organization_id: Some("o1".into()),
            target_name: "Legal aid — Casa Segura".into(),
            partner_org_id: Some(org.id.clone()),
            basis: "consent".into(),
            consent_by: Some("Marisol, the caller".into()),
            consent_method: Some("verbal".into()),
            consent_at_us: Some(now()),
            shares: vec!["first_name".into(), "needs".into()],
            shared_json: serde_json::json!({"first_name": "Marisol", "needs": "T-visa advice"})
                .to_string(),
            ..Default::default()
        };
        let r = s.create_referral(&ctx(), &new).await.unwrap();
        assert_eq!(r.status, "sent");
        assert_eq!(r.consent_by.as_deref(), Some("Marisol, the caller"));
        assert_eq!(r.events.len(), 1);
        let inbox = s
            .list_referrals(
                &ctx(),
                &a,
                &lantern_store::ReferralFilter {
                    partner_org_id: Some(org.id.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(inbox.len(), 1);
        let none = s
            .list_referrals(
                &ctx(),
                &a,
                &lantern_store::ReferralFilter {
                    partner_org_id: Some(other.id.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(none.is_empty());
        let moved = s
            .move_referral(
                &ctx(),
                &a,
                &r.id,
                &lantern_store::ReferralMove {
                    from: "sent".into(),
                    to: "accepted".into(),
                    note: Some("Intake Monday 9am".into()),
                    confirmed_by: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(moved.status, "accepted");
        assert_eq!(moved.events.len(), 2);
        assert_eq!(moved.events[1].note.as_deref(), Some("Intake Monday 9am"));
        // A move from a status the referral no longer has changes nothing.
        let stale = s
            .move_referral(
                &ctx(),
                &a,
                &r.id,
                &lantern_store::ReferralMove {
                    from: "sent".into(),
                    to: "declined".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(stale, StoreError::Invalid(ref m) if m.contains("accepted")),
            "{stale:?}"
        );
        let back = s.referral(&ctx(), &a, &r.id).await.unwrap();
        assert_eq!(back.status, "accepted");
        let of_case = s
            .list_referrals(
                &ctx(),
                &a,
                &lantern_store::ReferralFilter {
                    case_id: Some(case.id.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(of_case.len(), 1);
        // Another hotline cannot read it; a referral needs a case of its own hotline.
        let b = hotline(s, "beta").await;
        assert!(matches!(
            s.referral(&ctx(), &b, &r.id).await,
            Err(StoreError::NotFound(_))
        ));
        let mut foreign = new.clone();
        foreign.hotline_id = b.clone();
        foreign.partner_org_id = None;
        assert!(matches!(
            s.create_referral(&ctx(), &foreign).await,
            Err(StoreError::NotFound("case"))
        ));
        assert!(matches!(
            s.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
    }
}

#[tokio::test]
async fn directory_bodies_and_consent_never_reach_the_file_in_plaintext() {
    let db = sqlite().await;
    let s = &*db.store;
    let a = hotline(s, "alpha").await;
    let case = s.create_case(&ctx(), &new_case(&a, "TX")).await.unwrap();
    s.change_directory(
        &ctx(),
        &a,
        &lantern_store::DirectoryChange {
            upserts: vec![record(
                "address",
                "d1",
                serde_json::json!({"id": "d1", "address_1": "12 Hidden Lane"}),
            )],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.create_referral(
        &ctx(),
        &lantern_store::NewReferral {
            hotline_id: a.clone(),
            case_id: case.id.clone(),
            kind: "service".into(),
            status: "proposed".into(),
            target_name: "Shelter".into(),
            basis: "imminent_danger".into(),
            shares: vec!["summary".into()],
            shared_json: serde_json::json!({"summary": "Zoraida needs a bed tonight"}).to_string(),
            exception_reason: Some("Threatened with a gun".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let dir = std::path::Path::new(&db.url).parent().unwrap().to_owned();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for needle in ["Hidden Lane", "Zoraida", "Threatened"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "found {needle} in plaintext"
            );
        }
    }
}

// ---- the SMS line ----

const LINE: &str = "+18885550100";
const TEXTER: &str = "+15552019876";

fn inbound(hotline_id: &str, sid: u32, body: &str) -> lantern_store::NewInboundSms {
    lantern_store::NewInboundSms {
        hotline_id: hotline_id.into(),
        hotline_number: LINE.into(),
        sender: TEXTER.into(),
        provider_id: format!("SM{sid:032x}"),
        body: body.into(),
        num_media: 0,
    }
}

/// A stand-in for the keyword machine of `lantern-channels`: STOP opts out, START opts in, anything else
/// opens a conversation, and a HELP gets a reply unless the sender is opted out.
fn decide(body: &str) -> impl Fn(bool) -> lantern_store::InboundPlan + Send + Sync + '_ {
    move |opted_out| {
        let word = body.trim().to_uppercase();
        let (out, open, kind, reply) = match word.as_str() {
            "STOP" => (
                true,
                false,
                "opt_out",
                (!opted_out).then(|| "Unsubscribed".to_owned()),
            ),
            "START" => (
                false,
                false,
                "opt_in",
                opted_out.then(|| "Welcome back".to_owned()),
            ),
            "HELP" => (
                opted_out,
                true,
                "help",
                (!opted_out).then(|| "Help text".to_owned()),
            ),
            _ => (opted_out, true, "message", None),
        };
        lantern_store::InboundPlan {
            opted_out: out,
            open_conversation: open,
            kind: kind.into(),
            auto_reply: reply,
            language: Some("en".into()),
        }
    }
}

async fn receive(
    s: &dyn Store,
    hotline_id: &str,
    sid: u32,
    body: &str,
) -> lantern_store::InboundReceipt {
    s.receive_sms(
        &AuditCtx::system(None),
        &inbound(hotline_id, sid, body),
        &decide(body),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn an_inbound_text_opens_a_waiting_conversation_that_is_an_sms_contact() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let first = receive(s, &a, 1, "HELP").await;
        assert!(!first.duplicate);
        assert_eq!(first.plan.auto_reply.as_deref(), Some("Help text"));
        let conv_id = first
            .conversation_id
            .clone()
            .expect("HELP opens a conversation");
        let second = receive(s, &a, 2, "my boss took my passport").await;
        assert_eq!(second.conversation_id.as_deref(), Some(conv_id.as_str()));

        let contact = s
            .contact(&ctx(), &a, first.contact_id.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!((contact.channel.as_str(), contact.case_id), ("sms", None));

        let waiting = s
            .list_sms_conversations(
                &ctx(),
                &a,
                &lantern_store::SmsConversationFilter {
                    status: Some("waiting".into()),
                    limit: 50,
                },
            )
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].sender, TEXTER);
        assert!(!waiting[0].opted_out);

        let thread = s.sms_thread(&ctx(), &a, &conv_id).await.unwrap();
        let bodies: Vec<(&str, &str, &str)> = thread
            .messages
            .iter()
            .map(|m| (m.direction.as_str(), m.kind.as_str(), m.body.as_str()))
            .collect();
        assert_eq!(
            bodies,
            [
                ("inbound", "help", "HELP"),
                ("outbound", "auto_reply", "Help text"),
                ("inbound", "message", "my boss took my passport"),
            ]
        );
        let recent = s.recent_audit(&a, 20).await.unwrap();
        for action in ["sms.receive", "sms.read", "sms.list", "contact.create"] {
            assert!(
                recent.iter().any(|e| e.action == action),
                "no {action} event"
            );
        }

        // Another hotline sees none of it.
        let b = hotline(s, "beta").await;
        assert!(matches!(
            s.sms_thread(&ctx(), &b, &conv_id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            db.store.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
    }
}

#[tokio::test]
async fn a_redelivered_message_changes_nothing_and_gets_no_reply() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let first = receive(s, &a, 7, "HELP").await;
        let again = receive(s, &a, 7, "HELP").await;
        assert!(again.duplicate);
        assert_eq!(again.plan.auto_reply, None);
        let thread = s
            .sms_thread(&ctx(), &a, first.conversation_id.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(thread.messages.len(), 2, "the message and its one reply");
    }
}

#[tokio::test]
async fn after_an_opt_out_nothing_can_be_registered_for_sending_until_an_opt_in() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let advocate = s
            .create_user(&ctx(), &new_user(&a, "adv", Role::Advocate))
            .await
            .unwrap();
        let conv = receive(s, &a, 1, "BEFREE").await.conversation_id.unwrap();

        // A reply goes out, fails, and is registered again for a retry while the sender is opted in.
        let lantern_store::SendStart::Ready(m) = s
            .start_sms_reply(
                &ctx(),
                &a,
                &conv,
                "We are here. Are you safe?",
                &advocate.id,
            )
            .await
            .unwrap()
        else {
            panic!("an opted-in sender can be written to")
        };
        assert_eq!((m.to.as_str(), m.from.as_str()), (TEXTER, LINE));
        s.finish_sms_send(
            &ctx(),
            &a,
            &m.message_id,
            &lantern_store::SendOutcome::Failed(Some(30003)),
        )
        .await
        .unwrap();

        let stop = receive(s, &a, 2, "stop").await;
        assert!(stop.plan.opted_out && !stop.was_opted_out);
        assert!(s.sms_opted_out(&a, LINE, TEXTER).await.unwrap());
        assert_eq!(
            s.start_sms_reply(&ctx(), &a, &conv, "Hello?", &advocate.id)
                .await
                .unwrap(),
            lantern_store::SendStart::OptedOut
        );
        assert_eq!(
            s.start_sms_retry(&ctx(), &a, &m.message_id).await.unwrap(),
            lantern_store::SendStart::OptedOut
        );
        let thread = s.sms_thread(&ctx(), &a, &conv).await.unwrap();
        assert!(thread.conversation.opted_out);
        assert!(
            !thread.messages.iter().any(|m| m.body == "Hello?"),
            "a refused reply is not stored as if sent"
        );
        // A message after STOP still reaches the advocate, with no reply.
        let later = receive(s, &a, 3, "are you there").await;
        assert_eq!(later.conversation_id.as_deref(), Some(conv.as_str()));
        assert_eq!(later.plan.auto_reply, None);

        // START opts back in; the failed reply can be retried.
        let start = receive(s, &a, 4, "START").await;
        assert!(!start.plan.opted_out);
        assert!(matches!(
            s.start_sms_retry(&ctx(), &a, &m.message_id).await.unwrap(),
            lantern_store::SendStart::Ready(_)
        ));
        // The carrier may report an opt-out too; it refuses sends like a STOP.
        s.mark_sms_opted_out(&ctx(), &a, &conv).await.unwrap();
        assert!(s.sms_opted_out(&a, LINE, TEXTER).await.unwrap());
        assert_eq!(
            s.start_sms_reply(&ctx(), &a, &conv, "Hello?", &advocate.id)
                .await
                .unwrap(),
            lantern_store::SendStart::OptedOut
        );
        // The opt-out is per hotline number: another line of the hotline is unaffected.
        assert!(!s.sms_opted_out(&a, "+18885550199", TEXTER).await.unwrap());
        assert!(matches!(
            db.store.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
    }
}

#[tokio::test]
async fn delivery_callbacks_move_a_message_forward_only() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let advocate = s
            .create_user(&ctx(), &new_user(&a, "adv", Role::Advocate))
            .await
            .unwrap();
        let conv = receive(s, &a, 1, "BEFREE").await.conversation_id.unwrap();
        let lantern_store::SendStart::Ready(m) = s
            .start_sms_reply(&ctx(), &a, &conv, "Hi", &advocate.id)
            .await
            .unwrap()
        else {
            panic!("opted in")
        };
        let sid = "SM0123456789abcdef0123456789abcdef";
        s.finish_sms_send(
            &ctx(),
            &a,
            &m.message_id,
            &lantern_store::SendOutcome::Accepted(sid.into()),
        )
        .await
        .unwrap();
        let cb = AuditCtx::system(None);
        assert_eq!(
            s.sms_delivery_status(&cb, sid, "delivered", None)
                .await
                .unwrap(),
            Some((a.clone(), conv.clone()))
        );
        assert!(
            s.sms_delivery_status(&cb, sid, "sent", None)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            s.sms_delivery_status(&cb, "SMffffffffffffffffffffffffffffffff", "sent", None)
                .await
                .unwrap(),
            None
        );
        let thread = s.sms_thread(&ctx(), &a, &conv).await.unwrap();
        let reply = thread.messages.iter().find(|m| m.kind == "reply").unwrap();
        assert_eq!(reply.status, "delivered");
        assert_eq!(reply.provider_id.as_deref(), Some(sid));
        assert_eq!(thread.conversation.status, "open");
        assert_eq!(
            thread.conversation.assignee_id.as_deref(),
            Some(advocate.id.as_str())
        );

        // Linking is attaching the conversation's contact to a case.
        let case = s.create_case(&ctx(), &new_case(&a, "TX")).await.unwrap();
        s.attach_contact(&ctx(), &a, &thread.conversation.contact_id, &case.id)
            .await
            .unwrap();
        s.set_sms_status(&ctx(), &a, &conv, "closed", None)
            .await
            .unwrap();
        let closed = s
            .list_sms_conversations(
                &ctx(),
                &a,
                &lantern_store::SmsConversationFilter {
                    status: Some("closed".into()),
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!(closed[0].case_id.as_deref(), Some(case.id.as_str()));
        // A text after closing opens a new conversation.
        let next = receive(s, &a, 9, "hello again").await;
        assert_ne!(next.conversation_id.as_deref(), Some(conv.as_str()));
        assert!(matches!(
            s.set_sms_status(&ctx(), &a, &conv, "archived", None).await,
            Err(StoreError::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn concurrent_texts_of_one_sender_share_one_conversation() {
    for db in backends().await {
        let s = db.store.clone();
        let a = hotline(&*s, "alpha").await;
        let mut tasks = Vec::new();
        for i in 0..12u32 {
            let (s, a) = (s.clone(), a.clone());
            tasks.push(tokio::spawn(async move {
                receive(&*s, &a, 100 + i, "are you there").await
            }));
        }
        let mut ids = std::collections::BTreeSet::new();
        for t in tasks {
            ids.insert(t.await.unwrap().conversation_id.unwrap());
        }
        assert_eq!(ids.len(), 1, "{ids:?}");
    }
}

#[tokio::test]
async fn sms_numbers_and_bodies_never_reach_the_file_in_plaintext() {
    let db = sqlite().await;
    let s = &*db.store;
    let a = hotline(s, "alpha").await;
    receive(s, &a, 1, "Yesenia is locked in the back room").await;
    let dir = std::path::Path::new(&db.url).parent().unwrap().to_owned();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for needle in ["Yesenia", "5552019876", "back room"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "found {needle} in plaintext"
            );
        }
    }
}

#[tokio::test]
async fn rotation_reencrypts_sms_senders_and_bodies() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let conv = receive(s, &a, 1, "HELP").await.conversation_id.unwrap();
        let mut rotated = db.keys.clone();
        rotated.rotate();
        // The sender, the message and its automatic reply.
        assert_eq!(s.reencrypt_all(&ctx(), &rotated).await.unwrap(), 3);
        let mut only_new = rotated.clone();
        only_new.retire_old_keys();
        let reopened = lantern_store::open(&db.url, only_new, &OpenOptions::default())
            .await
            .unwrap();
        let thread = reopened.sms_thread(&ctx(), &a, &conv).await.unwrap();
        assert_eq!(thread.conversation.sender, TEXTER);
        assert_eq!(thread.messages[0].body, "HELP");
        // The blind index does not depend on the data key: the sender is still found.
        assert!(!reopened.sms_opted_out(&a, LINE, TEXTER).await.unwrap());
        let again = reopened
            .receive_sms(
                &AuditCtx::system(None),
                &inbound(&a, 2, "hello"),
                &decide("hello"),
            )
            .await
            .unwrap();
        assert_eq!(again.conversation_id.as_deref(), Some(conv.as_str()));
    }
}

// ---- rollups ----

mod rollups {
    use super::*;
    use lantern_store::{CaseChange, NewCase, NewParty, RollupFilter};
    use rand::rngs::StdRng;
    use rand::{Rng as _, SeedableRng as _};

    const STATES: &[&str] = &["TX", "CA", "NY", "FL"];
    const CHANNELS: &[&str] = &["phone", "sms", "webchat", "webform"];
    const SIGNALERS: &[&str] = &["victim_survivor", "community_member", "law_enforcement"];
    const CATEGORIES: &[&str] = &["crisis", "tip", "non_substantive"];
    const OUTCOMES: &[&str] = &[
        "likely_trafficking",
        "possible_trafficking",
        "labor_exploitation",
    ];
    const STATUSES: &[&str] = &["open", "monitoring", "referred", "closed"];
    const FORMS: &[&str] = &["sex", "labor", "sex_and_labor", "not_specified"];
    const TYPOLOGIES: &[&str] = &[
        "escort_services",
        "agriculture_animal_husbandry",
        "construction",
    ];
    const REFERRAL_STATUSES: &[&str] = &[
        "proposed",
        "sent",
        "accepted",
        "declined",
        "completed",
        "withdrawn",
    ];
    const ROLES: &[&str] = &["potential_victim", "suspected_trafficker", "witness"];

    fn pick<'a>(r: &mut StdRng, xs: &[&'a str]) -> &'a str {
        xs[r.random_range(0..xs.len())]
    }

    fn maybe(r: &mut StdRng, xs: &[&str]) -> Option<String> {
        r.random_bool(0.8).then(|| pick(r, xs).to_owned())
    }

    const NEEDS: &[&str] = &["emergency_shelter", "legal_services", "medical_care"];
    const COUNTIES: &[&str] = &["Harris", "Fresno County", "Kings", "Dade"];
    const GENDERS: &[&str] = &["woman", "man", "transgender_nonconforming"];

    /// Typologies, and (so the gap analysis's needs move too) needs, places (mostly in `state`) and
    /// risk factors.
    fn details(r: &mut StdRng, state: Option<&str>) -> String {
        let n = r.random_range(0..3);
        let t: Vec<&str> = (0..n).map(|_| pick(r, TYPOLOGIES)).collect();
        let needs: Vec<&str> = (0..r.random_range(0..3)).map(|_| pick(r, NEEDS)).collect();
        let mut needs = needs;
        needs.sort_unstable();
        needs.dedup();
        let places: Vec<serde_json::Value> = (0..r.random_range(0..3))
            .map(|_| {
                let st = match state {
                    Some(st) if r.random_bool(0.7) => st,
                    _ => pick(r, STATES),
                };
                serde_json::json!({"state": st, "county": pick(r, COUNTIES)})
            })
            .collect();
        let risks: Vec<&str> = r
            .random_bool(0.3)
            .then_some("disability")
            .into_iter()
            .collect();
        serde_json::json!({ "typology": t, "needs": needs, "locations": places, "risk_factors": risks })
            .to_string()
    }

    /// A party with the coded facts the gap analysis reads.
    fn random_party(r: &mut StdRng) -> NewParty {
        NewParty {
            role: pick(r, ROLES).into(),
            gender: maybe(r, GENDERS),
            age: r.random_bool(0.5).then(|| r.random_range(10..60)),
            nationality: r
                .random_bool(0.5)
                .then(|| pick(r, &["US", "MX"]).to_owned()),
            ..Default::default()
        }
    }

    fn random_case(r: &mut StdRng, hotline_id: &str) -> NewCase {
        let state = maybe(r, STATES);
        NewCase {
            hotline_id: hotline_id.into(),
            status: pick(r, STATUSES).into(),
            form: pick(r, FORMS).into(),
            details_json: details(r, state.as_deref()),
            state,
            ..Default::default()
        }
    }

    fn random_contact(
        r: &mut StdRng,
        hotline_id: &str,
        cases: &[String],
    ) -> lantern_store::NewContact {
        // Somewhere in 2024 or 2025, so the cells spread over months.
        let occurred_at_us = 1_704_067_200_000_000 + r.random_range(0..63_000_000) * 1_000_000;
        let mut c = lantern_store::NewContact {
            hotline_id: hotline_id.into(),
            channel: pick(r, CHANNELS).into(),
            signaler_type: maybe(r, SIGNALERS),
            category: maybe(r, CATEGORIES),
            state: maybe(r, STATES),
            location_precision: "state".into(),
            occurred_at_us,
            ..Default::default()
        };
        if r.random_bool(0.7) {
            c.determination = Some(lantern_store::NewDetermination {
                answers_json: "{}".into(),
                outcome: pick(r, OUTCOMES).into(),
                rules_version: "test".into(),
                needs_review: r.random_bool(0.5),
                ..Default::default()
            });
        }
        match r.random_range(0..3) {
            0 if !cases.is_empty() => {
                c.case_id = Some(cases[r.random_range(0..cases.len())].clone());
            }
            1 => c.open_case = Some(random_case(r, hotline_id)),
            _ => {}
        }
        if c.case_id.is_some() || c.open_case.is_some() {
            c.parties = (0..r.random_range(0..3)).map(|_| random_party(r)).collect();
        }
        c
    }

    fn referral(hotline_id: &str, case_id: &str, status: &str) -> lantern_store::NewReferral {
        lantern_store::NewReferral {
            hotline_id: hotline_id.into(),
            case_id: case_id.into(),
            kind: "service".into(),
            status: status.into(),
            target_name: "Shelter".into(),
            basis: "consent".into(),
            shared_json: "{}".into(),
            service_types: vec!["emergency_shelter".into()],
            ..Default::default()
        }
    }

    /// What the bookkeeping of a random run needs to pick targets.
    #[derive(Default)]
    struct World {
        contacts: Vec<String>,
        cases: Vec<String>,
        referrals: Vec<(String, String)>,
        pending: Vec<String>,
        parties: Vec<(String, String)>,
    }

    impl World {
        fn note_contact(&mut self, c: &lantern_store::Contact) {
            self.contacts.push(c.id.clone());
            if let Some(cid) = &c.case_id
                && !self.cases.contains(cid)
            {
                self.cases.push(cid.clone());
            }
            for d in &c.determinations {
                if d.review_status.as_deref() == Some("pending") {
                    self.pending.push(d.id.clone());
                }
            }
        }
    }

    /// One random write against `hotline_id`.
    async fn random_write(s: &dyn Store, r: &mut StdRng, h: &str, w: &mut World) {
        match r.random_range(0..10) {
            0 | 1 => {
                let c = s
                    .create_contact(&ctx(), &random_contact(r, h, &w.cases))
                    .await
                    .unwrap();
                w.note_contact(&c);
            }
            2 => {
                let case = s.create_case(&ctx(), &random_case(r, h)).await.unwrap();
                w.cases.push(case.id);
            }
            3 if !w.cases.is_empty() => {
                let id = w.cases[r.random_range(0..w.cases.len())].clone();
                let change = CaseChange {
                    status: r.random_bool(0.5).then(|| pick(r, STATUSES).into()),
                    form: r.random_bool(0.5).then(|| pick(r, FORMS).into()),
                    state: r.random_bool(0.4).then(|| maybe(r, STATES)),
                    details_json: r.random_bool(0.4).then(|| details(r, None)),
                    ..Default::default()
                };
                s.update_case(&ctx(), h, &id, &change).await.unwrap();
            }
            4 if !w.cases.is_empty() => {
                let id = w.cases[r.random_range(0..w.cases.len())].clone();
                let party = NewParty {
                    case_id: id,
                    ..random_party(r)
                };
                if !w.parties.is_empty() && r.random_bool(0.4) {
                    // Change a party's facts (its role stays).
                    let (pid, role) = w.parties[r.random_range(0..w.parties.len())].clone();
                    let change = NewParty { role, ..party };
                    s.update_party(&ctx(), h, &pid, &change).await.unwrap();
                } else {
                    let added = s.add_party(&ctx(), h, &party).await.unwrap();
                    w.parties.push((added.id, added.role));
                }
            }
            5 if !w.cases.is_empty() && !w.contacts.is_empty() => {
                let case_id = w.cases[r.random_range(0..w.cases.len())].clone();
                let contact_id = w.contacts[r.random_range(0..w.contacts.len())].clone();
                s.attach_contact(&ctx(), h, &contact_id, &case_id)
                    .await
                    .unwrap();
            }
            6 if !w.cases.is_empty() => {
                let case_id = w.cases[r.random_range(0..w.cases.len())].clone();
                let status = pick(r, &["proposed", "sent"]);
                let created = s
                    .create_referral(&ctx(), &referral(h, &case_id, status))
                    .await
                    .unwrap();
                w.referrals.push((created.id, created.status));
            }
            7 if !w.referrals.is_empty() => {
                let i = r.random_range(0..w.referrals.len());
                let to = pick(r, REFERRAL_STATUSES).to_owned();
                let (id, from) = w.referrals[i].clone();
                let change = lantern_store::ReferralMove {
                    from,
                    to: to.clone(),
                    ..Default::default()
                };
                s.move_referral(&ctx(), h, &id, &change).await.unwrap();
                w.referrals[i].1 = to;
            }
            8 if !w.pending.is_empty() => {
                let id = w.pending.swap_remove(r.random_range(0..w.pending.len()));
                let decision = pick(r, &["confirmed", "returned"]);
                s.decide_review(&ctx(), h, &id, decision, None)
                    .await
                    .unwrap();
            }
            _ => {
                let batch: Vec<_> = (0..3).map(|_| random_contact(r, h, &w.cases)).collect();
                let ids = s.import_contacts(&ctx(), &batch).await.unwrap();
                for (id, case_id) in ids {
                    w.contacts.push(id);
                    if let Some(cid) = case_id
                        && !w.cases.contains(&cid)
                    {
                        w.cases.push(cid);
                    }
                }
            }
        }
    }

    fn total(cells: &[lantern_store::RollupCell], metric: &str) -> i64 {
        cells
            .iter()
            .filter(|c| c.key.metric == metric)
            .map(|c| c.count)
            .sum()
    }

    #[tokio::test]
    async fn incremental_rollups_equal_a_rebuild_after_a_random_sequence_of_writes() {
        for db in backends().await {
            let s = &*db.store;
            let a = hotline(s, "alpha").await;
            let b = hotline(s, "bravo").await;
            // The second run continues on the first's records: rebuilt cells must update incrementally too.
            let (mut wa, mut wb) = (World::default(), World::default());
            for seed in [7_u64, 2026] {
                let mut r = StdRng::seed_from_u64(seed);
                for _ in 0..150 {
                    if r.random_bool(0.75) {
                        random_write(s, &mut r, &a, &mut wa).await;
                    } else {
                        random_write(s, &mut r, &b, &mut wb).await;
                    }
                }
                for (h, w) in [(&a, &wa), (&b, &wb)] {
                    let all = RollupFilter::default();
                    let incremental = s.rollups(h, &all).await.unwrap();
                    assert_eq!(
                        total(&incremental, "contacts") as usize,
                        w.contacts.len(),
                        "every contact is counted once (seed {seed})"
                    );
                    assert_eq!(total(&incremental, "cases") as usize, w.cases.len());
                    assert_eq!(total(&incremental, "referrals") as usize, w.referrals.len());
                    assert!(incremental.iter().all(|c| c.count > 0));
                    // The gap analysis's needs move with cases, parties and referrals, counties too.
                    let needs = |county: bool| {
                        incremental
                            .iter()
                            .filter(|c| {
                                c.key.metric == "case_needs" && c.key.county.is_empty() != county
                            })
                            .count()
                    };
                    assert!(
                        needs(false) > 5 && needs(true) > 5,
                        "{}, {}",
                        needs(false),
                        needs(true)
                    );
                    s.rebuild_rollups(&ctx(), h).await.unwrap();
                    let rebuilt = s.rollups(h, &all).await.unwrap();
                    assert_eq!(incremental, rebuilt, "{:?}, seed {seed}", s.backend());
                }
            }
        }
    }

    #[tokio::test]
    async fn a_write_that_fails_midway_leaves_the_rollups_unchanged() {
        for db in backends().await {
            let s = &*db.store;
            let a = hotline(s, "alpha").await;
            let mut r = StdRng::seed_from_u64(11);
            let mut w = World::default();
            for _ in 0..40 {
                random_write(s, &mut r, &a, &mut w).await;
            }
            let case = s.create_case(&ctx(), &new_case(&a, "TX")).await.unwrap();
            s.create_referral(&ctx(), &referral(&a, &case.id, "sent"))
                .await
                .unwrap();
            let all = RollupFilter::default();
            let before = s.rollups(&a, &all).await.unwrap();

            // The form and state change reach the database before the unknown assignee fails the update.
            let change = CaseChange {
                form: Some("labor".into()),
                state: Some(Some("CA".into())),
                assignee_id: Some(Some("no-such-user".into())),
                ..Default::default()
            };
            assert!(s.update_case(&ctx(), &a, &case.id, &change).await.is_err());
            // The first contact of the batch is written before the second is refused.
            let mut bad = contact(&a, None, false);
            bad.parties = vec![NewParty {
                role: "potential_victim".into(),
                ..Default::default()
            }];
            let batch = [contact(&a, Some(&case.id), false), bad];
            assert!(s.import_contacts(&ctx(), &batch).await.is_err());
            let stale = lantern_store::ReferralMove {
                from: "accepted".into(),
                to: "completed".into(),
                ..Default::default()
            };
            let referral_id = s
                .list_referrals(
                    &ctx(),
                    &a,
                    &lantern_store::ReferralFilter {
                        case_id: Some(case.id.clone()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap()[0]
                .id
                .clone();
            assert!(
                s.move_referral(&ctx(), &a, &referral_id, &stale)
                    .await
                    .is_err()
            );

            assert_eq!(s.rollups(&a, &all).await.unwrap(), before);
            s.rebuild_rollups(&ctx(), &a).await.unwrap();
            assert_eq!(s.rollups(&a, &all).await.unwrap(), before);
        }
    }

    #[tokio::test]
    async fn a_database_without_rollups_gets_them_built_when_opened() {
        for db in backends().await {
            let s = &*db.store;
            let a = hotline(s, "alpha").await;
            let mut r = StdRng::seed_from_u64(3);
            let mut w = World::default();
            for _ in 0..20 {
                random_write(s, &mut r, &a, &mut w).await;
            }
            let all = RollupFilter::default();
            let before = s.rollups(&a, &all).await.unwrap();
            assert!(!before.is_empty());
            raw(&db, "DELETE FROM rollup_cells").await;
            assert!(s.rollups(&a, &all).await.unwrap().is_empty());

            let reopened = lantern_store::open(&db.url, db.keys.clone(), &OpenOptions::default())
                .await
                .unwrap();
            assert_eq!(reopened.rollups(&a, &all).await.unwrap(), before);
        }
    }

    #[tokio::test]
    async fn rollups_are_filtered_by_metric_and_month_and_never_cross_hotlines() {
        for db in backends().await {
            let s = &*db.store;
            let a = hotline(s, "alpha").await;
            let b = hotline(s, "bravo").await;
            let mut early = contact(&a, None, false);
            early.occurred_at_us = 1_704_067_200_000_000; // 2024-01-01
            let mut late = contact(&a, None, false);
            late.occurred_at_us = 1_719_792_000_000_000; // 2024-07-01
            s.create_contact(&ctx(), &early).await.unwrap();
            s.create_contact(&ctx(), &late).await.unwrap();

            let contacts = RollupFilter {
                metric: Some("contacts".into()),
                from_month: Some("2024-02".into()),
                to_month: Some("2024-07".into()),
            };
            let cells = s.rollups(&a, &contacts).await.unwrap();
            assert_eq!(cells.len(), 1);
            assert_eq!(cells[0].key.month, "2024-07");
            assert_eq!(cells[0].key.state, "TX");
            assert_eq!(cells[0].key.outcome, "likely_trafficking");
            assert_eq!(cells[0].key.form, "");
            assert_eq!(cells[0].count, 1);
            assert!(
                s.rollups(&b, &RollupFilter::default())
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    }

    #[tokio::test]
    async fn a_case_opened_with_a_contact_opens_when_the_contact_happened_never_later_than_now() {
        for db in backends().await {
            let s = &*db.store;
            let a = hotline(s, "alpha").await;
            let jan_2024 = 1_704_067_200_000_000;
            for (occurred, month) in [(jan_2024, Some("2024-01")), (now() + 86_400_000_000, None)] {
                let mut c = contact(&a, None, false);
                c.occurred_at_us = occurred;
                c.open_case = Some(new_case(&a, "TX"));
                let before = now();
                let made = s.create_contact(&ctx(), &c).await.unwrap();
                let case = s
                    .case(&ctx(), &a, made.case_id.as_deref().unwrap())
                    .await
                    .unwrap();
                match month {
                    Some(m) => {
                        assert_eq!(case.opened_at_us, occurred, "{:?}", s.backend());
                        let cases = RollupFilter {
                            metric: Some("cases".into()),
                            ..RollupFilter::default()
                        };
                        let cells = s.rollups(&a, &cases).await.unwrap();
                        assert_eq!(cells[0].key.month, m);
                    }
                    // A contact dated in the future does not open its case in the future.
                    None => assert!(case.opened_at_us >= before && case.opened_at_us <= now()),
                }
            }
        }
    }

    #[tokio::test]
    async fn the_rollup_version_moves_with_every_change_to_a_hotlines_cells_and_only_then() {
        for db in backends().await {
            let s = &*db.store;
            let a = hotline(s, "alpha").await;
            let b = hotline(s, "bravo").await;
            assert_eq!(s.rollup_version(&a).await.unwrap(), 0);
            s.create_contact(&ctx(), &contact(&a, None, false))
                .await
                .unwrap();
            let v1 = s.rollup_version(&a).await.unwrap();
            assert!(v1 > 0, "{:?}", s.backend());
            // Reading moves nothing; another hotline's writes move only its own version.
            s.rollups(&a, &RollupFilter::default()).await.unwrap();
            s.create_contact(&ctx(), &contact(&b, None, false))
                .await
                .unwrap();
            assert_eq!(s.rollup_version(&a).await.unwrap(), v1);
            assert!(s.rollup_version(&b).await.unwrap() > 0);
            s.create_contact(&ctx(), &contact(&a, None, false))
                .await
                .unwrap();
            let v2 = s.rollup_version(&a).await.unwrap();
            assert!(v2 > v1);
            // A rebuild replaces the cells: figures held from before it are stale even if equal.
            s.rebuild_rollups(&ctx(), &a).await.unwrap();
            assert!(s.rollup_version(&a).await.unwrap() > v2);
        }
    }

    #[tokio::test]
    async fn the_changes_since_a_version_bring_the_cells_held_then_to_the_cells_now() {
        use lantern_store::{CellKey, RollupChanges};
        use std::collections::BTreeMap;
        for db in backends().await {
            let s = &*db.store;
            let a = hotline(s, "alpha").await;
            let b = hotline(s, "bravo").await;
            let all = &RollupFilter::default();
            let cells_now = |h: String| async move {
                s.rollups(&h, all)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|c| (c.key, c.count))
                    .collect::<BTreeMap<CellKey, i64>>()
            };
            let mut r = StdRng::seed_from_u64(41);
            let (mut wa, mut wb) = (World::default(), World::default());
            let mut held = BTreeMap::new();
            let mut version = 0;
            for round in 0..12 {
                // Writes to both hotlines (updates and deletes among them), then alpha catches up.
                for _ in 0..r.random_range(0..15) {
                    random_write(s, &mut r, &a, &mut wa).await;
                    random_write(s, &mut r, &b, &mut wb).await;
                }
                let RollupChanges::Cells { version: v, cells } =
                    s.rollup_changes(&a, version, 10_000).await.unwrap()
                else {
                    panic!("no rebuild happened, and few cells changed (round {round})");
                };
                assert!(v >= version);
                assert_eq!(v, s.rollup_version(&a).await.unwrap(), "{:?}", s.backend());
                for c in cells {
                    assert!(c.count >= 0);
                    if c.count == 0 {
                        held.remove(&c.key);
                    } else {
                        held.insert(c.key, c.count);
                    }
                }
                version = v;
                assert_eq!(
                    held,
                    cells_now(a.clone()).await,
                    "{:?}, round {round}",
                    s.backend()
                );
            }
            // Nothing changed since: no cells. More changes than the limit: read everything again.
            assert_eq!(
                s.rollup_changes(&a, version, 10).await.unwrap(),
                RollupChanges::Cells {
                    version,
                    cells: vec![]
                }
            );
            s.create_contact(&ctx(), &contact(&a, None, false))
                .await
                .unwrap();
            assert_eq!(
                s.rollup_changes(&a, version, 0).await.unwrap(),
                RollupChanges::ReadAll
            );
            // A rebuild may delete cells: figures from before it are read again, later ones follow on.
            s.rebuild_rollups(&ctx(), &a).await.unwrap();
            assert_eq!(
                s.rollup_changes(&a, version, 10_000).await.unwrap(),
                RollupChanges::ReadAll
            );
            let rebuilt = s.rollup_version(&a).await.unwrap();
            assert_eq!(
                s.rollup_changes(&a, rebuilt, 10).await.unwrap(),
                RollupChanges::Cells {
                    version: rebuilt,
                    cells: vec![]
                }
            );
        }
    }
}

// ---- cross-case linkage ----

fn party_with_phone(phone: &str) -> lantern_store::NewParty {
    lantern_store::NewParty {
        role: "suspected_trafficker".into(),
        identifiers: vec![lantern_store::NewIdentifier {
            kind: "phone".into(),
            value: phone.into(),
            lookup: None,
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_linkage_run_is_claimed_once_stores_its_links_and_decisions_label_pairs() {
    use lantern_store::{LinkField, NewLink, RunOutcome};
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let b = hotline(s, "beta").await;
        let mut cases = Vec::new();
        for phone in ["(415) 555-0199", "+1 415 555 0199"] {
            let mut c = contact(&a, None, false);
            c.open_case = Some(new_case(&a, "TX"));
            c.parties = vec![party_with_phone(phone)];
            cases.push(s.create_contact(&ctx(), &c).await.unwrap().case_id.unwrap());
        }

        // The job reads every party of its hotline, decrypted, and nothing of another.
        let parties = s.linkage_parties(&ctx(), &a, None).await.unwrap();
        assert_eq!(parties.len(), 2);
        assert_eq!(parties[0].identifiers[0].0, "phone");
        assert!(
            parties
                .iter()
                .any(|p| p.identifiers[0].1 == "(415) 555-0199")
        );
        assert!(
            s.linkage_parties(&ctx(), &b, None)
                .await
                .unwrap()
                .is_empty()
        );
        let later = parties.iter().map(|p| p.updated_at_us).max().unwrap() + 1;
        assert!(
            s.linkage_parties(&ctx(), &a, Some(later))
                .await
                .unwrap()
                .is_empty()
        );

        // One run per hotline at a time, claimed by one worker.
        let run = s.request_linkage_run(&ctx(), &a, "manual").await.unwrap();
        assert_eq!(run.status, "queued");
        let again = s.request_linkage_run(&ctx(), &a, "manual").await.unwrap();
        assert_eq!(again.id, run.id);
        assert!(matches!(
            s.request_linkage_run(&ctx(), &a, "whenever").await,
            Err(StoreError::Invalid(_))
        ));
        let lease = now() + 60_000_000;
        let claimed = s.claim_linkage_run("w1", lease).await.unwrap().unwrap();
        assert_eq!(
            (claimed.id.as_str(), claimed.hotline_id.as_str()),
            (run.id.as_str(), a.as_str())
        );
        assert!(s.claim_linkage_run("w2", lease).await.unwrap().is_none());
        assert!(!s.renew_linkage_lease(&run.id, "w2", lease).await.unwrap());
        assert!(s.renew_linkage_lease(&run.id, "w1", lease).await.unwrap());

        let outcome = RunOutcome {
            records: 2,
            candidates: 1,
            model_json: "{}".into(),
            components: vec![cases.clone()],
            links: vec![NewLink {
                component: 0,
                party_a: parties[0].party_id.clone(),
                party_b: parties[1].party_id.clone(),
                case_a: parties[0].case_id.clone(),
                case_b: parties[1].case_id.clone(),
                weight: 12.5,
                probability: 0.9998,
                explanation: vec![LinkField {
                    field: "phone".into(),
                    level: "exact".into(),
                    weight: 12.5,
                }],
                forced: false,
            }],
        };
        // A worker without the lease cannot finish it.
        assert!(
            s.finish_linkage_run(&ctx(), &run.id, "w2", &outcome)
                .await
                .is_err()
        );
        assert!(s.linkage_components(&a, 10).await.unwrap().is_empty());
        s.finish_linkage_run(&ctx(), &run.id, "w1", &outcome)
            .await
            .unwrap();
        let (newest, done) = s.latest_linkage_runs(&a).await.unwrap();
        assert_eq!(newest.unwrap().status, "done");
        let done = done.unwrap();
        assert_eq!((done.links, done.components), (Some(1), Some(1)));

        let comps = s.linkage_components(&a, 10).await.unwrap();
        assert_eq!(comps.len(), 1);
        assert_eq!(comps[0].case_numbers, [1, 2]);
        assert!(s.linkage_components(&b, 10).await.unwrap().is_empty());
        let plain = s
            .linkage_component(&ctx(), &a, &comps[0].id, false)
            .await
            .unwrap();
        assert_eq!(
            (plain.cases.len(), plain.links.len(), plain.parties.len()),
            (2, 1, 2)
        );
        assert!(plain.parties.iter().all(|p| p.identifiers.is_empty()));
        assert_eq!(plain.links[0].explanation[0].level, "exact");
        assert!((plain.links[0].weight - 12.5).abs() < 1e-9);
        let full = s
            .linkage_component(&ctx(), &a, &comps[0].id, true)
            .await
            .unwrap();
        assert!(full.parties.iter().all(|p| p.identifiers.len() == 1));
        assert!(matches!(
            s.linkage_component(&ctx(), &b, &comps[0].id, false).await,
            Err(StoreError::NotFound(_))
        ));

        // Decisions: checked, kept per pair of parties, and visible on the link.
        let link_id = plain.links[0].id.clone();
        assert!(matches!(
            s.decide_linkage_link(&ctx(), &a, &link_id, "maybe").await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            s.decide_linkage_link(&ctx(), &a, "no-such-link", "confirmed")
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.decide_linkage_link(&ctx(), &b, &link_id, "confirmed")
                .await,
            Err(StoreError::NotFound(_))
        ));
        let decided = s
            .decide_linkage_link(&ctx(), &a, &link_id, "rejected")
            .await
            .unwrap();
        assert_eq!(decided.decision.as_deref(), Some("rejected"));
        let decided = s
            .decide_linkage_link(&ctx(), &a, &link_id, "confirmed")
            .await
            .unwrap();
        assert_eq!(decided.decision.as_deref(), Some("confirmed"));
        let decisions = s.linkage_decisions(&a).await.unwrap();
        assert_eq!(decisions.len(), 1);
        assert_eq!(decisions[0].decision, "confirmed");
        assert!(decisions[0].party_a < decisions[0].party_b);

        // A run whose worker died (its lease ran out) is claimed again by another.
        let second = s.request_linkage_run(&ctx(), &a, "manual").await.unwrap();
        assert_ne!(second.id, run.id);
        s.claim_linkage_run("w1", now() - 1).await.unwrap().unwrap();
        let taken = s.claim_linkage_run("w2", lease).await.unwrap().unwrap();
        assert_eq!(taken.id, second.id);
        assert!(
            s.finish_linkage_run(&ctx(), &second.id, "w1", &outcome)
                .await
                .is_err()
        );
        s.fail_linkage_run(&second.id, "w2", "stopped by the test")
            .await
            .unwrap();
        assert_eq!(
            s.linkage_run(&a, &second.id).await.unwrap().status,
            "failed"
        );
        // The failed run left the last results in place.
        assert_eq!(s.linkage_components(&a, 10).await.unwrap().len(), 1);

        // The schedule queues a run for hotlines whose last run is older than the interval, once.
        assert_eq!(s.schedule_linkage_runs(3_600_000_000).await.unwrap(), 1);
        assert_eq!(s.schedule_linkage_runs(3_600_000_000).await.unwrap(), 0);
        let (newest_b, _) = s.latest_linkage_runs(&b).await.unwrap();
        assert_eq!(newest_b.unwrap().reason, "schedule");

        assert!(matches!(
            s.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
    }
}

// ---- the web chat ----

fn chat_message(
    chat_id: &str,
    seq: i64,
    author: &str,
    text: &str,
    change: Option<(&str, Option<&str>)>,
) -> lantern_store::NewChatMessage {
    lantern_store::NewChatMessage {
        chat_id: chat_id.into(),
        seq,
        author: author.into(),
        author_id: None,
        text: text.into(),
        change: change.map(|(state, advocate)| lantern_store::ChatStateChange {
            state: state.into(),
            advocate_id: advocate.map(str::to_owned),
        }),
    }
}

#[tokio::test]
async fn a_chat_is_a_webchat_contact_whose_numbered_transcript_is_kept_encrypted_and_audited() {
    for db in backends().await {
        let s = &*db.store;
        let a = hotline(s, "alpha").await;
        let advocate = s
            .create_user(&ctx(), &new_user(&a, "ana", Role::Advocate))
            .await
            .unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        let chat = s
            .open_chat(
                &ctx(),
                &lantern_store::NewChat {
                    id: id.clone(),
                    hotline_id: a.clone(),
                    language: "es".into(),
                    safe_to_chat: "unsure".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(chat.state, "waiting");
        let contact = s.contact(&ctx(), &a, &chat.contact_id).await.unwrap();
        assert_eq!(
            (
                contact.channel.as_str(),
                contact.language.as_deref(),
                contact.safe_to_talk.as_deref()
            ),
            ("webchat", Some("es"), Some("unsure"))
        );

        s.add_chat_message(
            &ctx(),
            &a,
            &chat_message(&id, 1, "seeker", "mi jefe tiene mi pasaporte", None),
        )
        .await
        .unwrap();
        s.add_chat_message(
            &ctx(),
            &a,
            &chat_message(
                &id,
                2,
                "system",
                "advocate_joined",
                Some(("active", Some(&advocate.id))),
            ),
        )
        .await
        .unwrap();
        let mut reply = chat_message(&id, 3, "advocate", "Estoy aquí para ayudar", None);
        reply.author_id = Some(advocate.id.clone());
        s.add_chat_message(&ctx(), &a, &reply).await.unwrap();
        // A number already stored is refused and changes nothing.
        assert!(matches!(
            s.add_chat_message(&ctx(), &a, &chat_message(&id, 3, "seeker", "again", None))
                .await,
            Err(StoreError::Conflict { field: "seq" })
        ));
        assert!(matches!(
            s.add_chat_message(&ctx(), &a, &chat_message(&id, 4, "nobody", "x", None))
                .await,
            Err(StoreError::Invalid(_))
        ));

        let active = s.list_chats(&ctx(), &a, Some("active"), 10).await.unwrap();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].advocate_id.as_deref(), Some(advocate.id.as_str()));

        s.add_chat_message(
            &ctx(),
            &a,
            &chat_message(&id, 4, "system", "ended", Some(("ended", None))),
        )
        .await
        .unwrap();
        let t = s.chat_transcript(&ctx(), &a, &id).await.unwrap();
        assert_eq!(t.chat.state, "ended");
        assert!(t.chat.ended_at_us.is_some());
        assert_eq!(t.chat.advocate_id.as_deref(), Some(advocate.id.as_str()));
        let lines: Vec<(i64, &str, &str)> = t
            .messages
            .iter()
            .map(|m| (m.seq, m.author.as_str(), m.text.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (1, "seeker", "mi jefe tiene mi pasaporte"),
                (2, "system", "advocate_joined"),
                (3, "advocate", "Estoy aquí para ayudar"),
                (4, "system", "ended"),
            ]
        );
        assert!(s.list_chats(&ctx(), &a, None, 10).await.unwrap().is_empty());

        // The contact joins a case like any other, and the chat shows it.
        let case = s.create_case(&ctx(), &new_case(&a, "TX")).await.unwrap();
        s.attach_contact(&ctx(), &a, &chat.contact_id, &case.id)
            .await
            .unwrap();
        let t = s.chat_transcript(&ctx(), &a, &id).await.unwrap();
        assert_eq!(t.chat.case_id.as_deref(), Some(case.id.as_str()));

        let recent = s.recent_audit(&a, 30).await.unwrap();
        for action in ["chat.open", "chat.message", "chat.read", "contact.create"] {
            assert!(
                recent.iter().any(|e| e.action == action),
                "no {action} event"
            );
        }
        // Another hotline sees none of it.
        let b = hotline(s, "beta").await;
        assert!(matches!(
            s.chat_transcript(&ctx(), &b, &id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.add_chat_message(&ctx(), &b, &chat_message(&id, 9, "seeker", "x", None))
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            db.store.verify_audit().await.unwrap(),
            Verification::Intact { .. }
        ));
        if db.store.backend() == Backend::Sqlite {
            let dir = std::path::Path::new(&db.url).parent().unwrap().to_owned();
            for entry in std::fs::read_dir(&dir).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                for needle in ["pasaporte", "Estoy aqu"] {
                    assert!(
                        !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                        "found {needle} in plaintext"
                    );
                }
            }
        }
    }
}
// ---- voice calls and rate limits ----

#[path = "contract/calls.rs"]
mod calls;

#[path = "contract/gaps.rs"]
mod gaps;
