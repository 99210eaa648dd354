//! The real server on a real socket: the start-up seam and graceful shutdown.

use lantern_server::{AppState, Settings};
use lantern_store::{Keyring, OpenOptions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn the_server_binds_a_given_listener_and_stops_gracefully_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let store = lantern_store::open(
        &dir.path().join("s.db").display().to_string(),
        Keyring::generate(),
        &OpenOptions::default(),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lantern_server::serve(
        AppState::new(store, Settings::default()),
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    let res = http_get(addr, "/healthz").await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is released"
    );
}

#[tokio::test]
async fn the_server_reads_every_hotlines_dashboard_figures_as_it_starts() {
    use lantern_store::{AuditCtx, NewContact, NewHotline};
    let dir = tempfile::tempdir().unwrap();
    let store = lantern_store::open(
        &dir.path().join("s.db").display().to_string(),
        Keyring::generate(),
        &OpenOptions::default(),
    )
    .await
    .unwrap();
    let ctx = AuditCtx::system(None);
    let h = store
        .create_hotline(
            &ctx,
            &NewHotline {
                slug: "h".into(),
                name: "H".into(),
            },
        )
        .await
        .unwrap();
    store
        .create_contact(
            &ctx,
            &NewContact {
                hotline_id: h.id.clone(),
                channel: "phone".into(),
                location_precision: "unknown".into(),
                occurred_at_us: 1_735_689_600_000_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let version = store.rollup_version(&h.id).await.unwrap();
    assert!(version > 0);
    let state = AppState::new(store, Settings::default());
    assert_eq!(state.dashboard.held_version(&h.id), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lantern_server::serve(state.clone(), listener, async {
        let _ = stopped.await;
    }));
    // No question is asked: the figures are read anyway.
    let mut held = None;
    for _ in 0..200 {
        held = state.dashboard.held_version(&h.id);
        if held.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(held, Some(version));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
