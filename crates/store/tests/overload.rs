//! Which database failures are overload (the server answers them 503 with `Retry-After`): each produced
//! for real, on SQLite always and on PostgreSQL when `LANTERN_TEST_DATABASE_URL` is set.

use lantern_store::StoreError;
use sqlx::Connection as _;
use std::time::Duration;

#[tokio::test]
async fn a_pool_with_no_free_connection_in_time_is_overload() {
    let dir = tempfile::tempdir().unwrap();
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("t.db"))
        .create_if_missing(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(20))
        .connect_with(opts)
        .await
        .unwrap();
    let _held = pool.acquire().await.unwrap();
    let e = StoreError::from(pool.acquire().await.unwrap_err());
    assert!(e.is_overloaded(), "{e:?}");
}

#[tokio::test]
async fn sqlite_busy_is_overload_and_a_bad_statement_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("t.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .busy_timeout(Duration::ZERO);
    let mut a = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    let mut b = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    sqlx::query("CREATE TABLE t (x INTEGER)")
        .execute(&mut a)
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut a)
        .await
        .unwrap();
    let busy = sqlx::query("INSERT INTO t VALUES (1)")
        .execute(&mut b)
        .await
        .unwrap_err();
    assert!(StoreError::from(busy).is_overloaded());
    let bad = sqlx::query("INSERT INTO nowhere VALUES (1)")
        .execute(&mut a)
        .await
        .unwrap_err();
    assert!(!StoreError::from(bad).is_overloaded());
    assert!(!StoreError::NotFound("case").is_overloaded());
}

#[tokio::test]
async fn postgres_lock_and_deadlock_failures_are_overload_and_a_bad_statement_is_not() {
    let Ok(url) = std::env::var("LANTERN_TEST_DATABASE_URL") else {
        eprintln!("LANTERN_TEST_DATABASE_URL is not set: skipped");
        return;
    };
    let mut a = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut b = sqlx::PgConnection::connect(&url).await.unwrap();
    let table = format!("overload_{}", uuid::Uuid::new_v4().simple());
    for sql in [
        format!("CREATE TABLE {table} (id INT PRIMARY KEY)"),
        format!("INSERT INTO {table} VALUES (1), (2)"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut a)
            .await
            .unwrap();
    }
    let lock = |id: i32, nowait: bool| {
        sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {table} WHERE id = {id} FOR UPDATE{}",
            if nowait { " NOWAIT" } else { "" }
        ))
    };
    // A lock not available (55P03).
    sqlx::query("BEGIN").execute(&mut a).await.unwrap();
    sqlx::query(lock(1, false)).execute(&mut a).await.unwrap();
    sqlx::query("BEGIN").execute(&mut b).await.unwrap();
    let e = sqlx::query(lock(1, true))
        .execute(&mut b)
        .await
        .unwrap_err();
    assert!(StoreError::from(e).is_overloaded());
    sqlx::query("ROLLBACK").execute(&mut b).await.unwrap();
    // A deadlock (40P01): each holds one row and waits for the other's.
    sqlx::query("BEGIN").execute(&mut b).await.unwrap();
    sqlx::query(lock(2, false)).execute(&mut b).await.unwrap();
    let (ra, rb) = tokio::join!(
        sqlx::query(lock(2, false)).execute(&mut a),
        sqlx::query(lock(1, false)).execute(&mut b)
    );
    let lost = ra
        .err()
        .or(rb.err())
        .expect("one of them is chosen as the victim");
    assert!(StoreError::from(lost).is_overloaded());
    let _ = sqlx::query("ROLLBACK").execute(&mut a).await;
    let _ = sqlx::query("ROLLBACK").execute(&mut b).await;
    let bad = sqlx::query("SELECT * FROM nowhere_at_all")
        .execute(&mut a)
        .await
        .unwrap_err();
    assert!(!StoreError::from(bad).is_overloaded());
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(&mut a)
        .await
        .unwrap();
}

#[test]
fn a_write_that_was_not_committed_is_overload_and_a_refused_request_is_not() {
    assert!(
        StoreError::NotCommitted("the database writer stopped before committing").is_overloaded()
    );
    assert!(!StoreError::Invalid("the case is closed".into()).is_overloaded());
    assert!(!StoreError::NotFound("case").is_overloaded());
}
