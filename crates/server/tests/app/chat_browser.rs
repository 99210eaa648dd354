//! The web chat as a new user tries it, in a real Chromium driven over its DevTools protocol: in one
//! browser context the help-seeker chats, in another the advocate signs in, accepts and answers; the
//! help-seeker sees the answer; Escape on the help-seeker's page lands on the neutral site. Skipped with a
//! notice when Debian's `chromium` is not installed.

use crate::chat::ChatApp;
use crate::helpers::PASSWORD;
use futures_util::{SinkExt as _, StreamExt as _};
use lantern_domain::account::Role;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
use tokio_tungstenite::tungstenite::Message;

/// A tiny DevTools client: one command at a time over the browser's socket, pages by flat session.
struct Cdp {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next: u64,
}

impl Cdp {
    async fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut cmd = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            cmd["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::Text(cmd.to_string().into()))
            .await
            .unwrap();
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method}"))
                .unwrap()
                .unwrap();
            let Message::Text(t) = msg else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// A new page in a browser context of its own (its own cookies); returns its session.
    async fn page(&mut self, url: &str) -> String {
        let ctx = self
            .call(None, "Target.createBrowserContext", json!({}))
            .await;
        let target = self
            .call(
                None,
                "Target.createTarget",
                json!({"url": "about:blank", "browserContextId": ctx["browserContextId"]}),
            )
            .await;
        let session = self
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await["sessionId"]
            .as_str()
            .unwrap()
            .to_owned();
        self.goto(&session, url).await;
        session
    }

    async fn goto(&mut self, session: &str, url: &str) {
        self.call(Some(session), "Page.navigate", json!({"url": url}))
            .await;
        self.wait_for(
            session,
            "document.readyState === 'complete' && !!document.body",
        )
        .await;
    }

    async fn eval(&mut self, session: &str, expr: &str) -> Value {
        let r = self
            .call(
                Some(session),
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true}),
            )
            .await;
        r["result"]["value"].clone()
    }

    /// Waits until `expr` is true in the page.
    async fn wait_for(&mut self, session: &str, expr: &str) {
        let start = Instant::now();
        loop {
            if self.eval(session, &format!("!!({expr})")).await == json!(true) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {expr}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A neutral site on a local port: any request gets a plain page.
async fn neutral_site() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let body = "<!doctype html><title>Weather</title><p>Sunny and mild today.</p>";
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    format!("http://{addr}/")
}

#[tokio::test]
async fn in_chromium_a_help_seeker_chats_an_advocate_answers_and_escape_lands_on_the_neutral_site()
{
    if std::process::Command::new("chromium")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("NOTICE: chromium not installed (apt-get install chromium); skipping");
        return;
    }
    let neutral = neutral_site().await;
    let n2 = neutral.clone();
    let app = ChatApp::with(3, move |s| s.help_pages.neutral_url = n2).await;
    app.app.user(Role::Advocate).await;
    let base = format!("http://{}", app.addr);

    let profile = tempfile::tempdir().unwrap();
    let mut chromium = tokio::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(chromium.stderr.take().unwrap()).lines();
    let endpoint = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("DevTools listening on ").nth(1) {
                return rest.trim().to_owned();
            }
        }
        panic!("chromium exited without a DevTools endpoint");
    })
    .await
    .expect("chromium starts within 60 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let (ws, _) = tokio_tungstenite::connect_async(endpoint.as_str())
        .await
        .unwrap();
    let mut cdp = Cdp { ws, next: 0 };

    // The help-seeker: the pre-chat step, then a message while waiting.
    let seeker = cdp.page(&format!("{base}/chat")).await;
    cdp.eval(
        &seeker,
        "document.querySelector('input[name=safe_to_chat][value=yes]').click(); \
         document.getElementById('start-chat').click();",
    )
    .await;
    cdp.wait_for(
        &seeker,
        "/ 1 /.test(document.getElementById('chat-status').textContent)",
    )
    .await;
    cdp.eval(
        &seeker,
        "document.getElementById('chat-text').value = 'My boss took my passport'; \
         document.getElementById('chat-form').requestSubmit();",
    )
    .await;
    cdp.wait_for(
        &seeker,
        "document.getElementById('chat-log').textContent.includes('My boss took my passport')",
    )
    .await;

    // The advocate, in another browser context: signs in, accepts, answers.
    let advocate = cdp.page(&format!("{base}/login")).await;
    cdp.eval(
        &advocate,
        &format!(
            "document.getElementById('username').value = 'advocate'; \
             document.getElementById('password').value = '{PASSWORD}'; \
             document.querySelector('form[action=\"/login\"]').submit();"
        ),
    )
    .await;
    cdp.wait_for(
        &advocate,
        "location.pathname === '/' && document.readyState === 'complete'",
    )
    .await;
    cdp.goto(&advocate, &format!("{base}/chats")).await;
    cdp.wait_for(
        &advocate,
        "/1 chat waiting/.test(document.getElementById('waiting').textContent)",
    )
    .await;
    cdp.eval(&advocate, "document.getElementById('accept-next').click();")
        .await;
    cdp.wait_for(
        &advocate,
        "document.querySelector('#chats .chat-log') && \
         document.querySelector('#chats .chat-log').textContent.includes('My boss took my passport')",
    )
    .await;
    cdp.eval(
        &advocate,
        "var f = document.querySelector('#chats .chat-reply'); \
         f.elements.text.value = 'You are not alone. Are you safe right now?'; f.requestSubmit();",
    )
    .await;

    // The help-seeker sees the answer.
    cdp.wait_for(
        &seeker,
        "document.getElementById('chat-log').textContent.includes('You are not alone. Are you safe right now?')",
    )
    .await;

    // Escape: the page is replaced by the neutral site.
    cdp.call(
        Some(&seeker),
        "Input.dispatchKeyEvent",
        json!({"type": "keyDown", "key": "Escape", "code": "Escape", "windowsVirtualKeyCode": 27}),
    )
    .await;
    let start = Instant::now();
    loop {
        let href = cdp.eval(&seeker, "location.href").await;
        let text = cdp
            .eval(&seeker, "document.body ? document.body.textContent : ''")
            .await;
        if href == json!(neutral) && text.as_str().unwrap_or("").contains("Sunny") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "still on {href} after Escape"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The quick exit ended the chat too: the advocate's console says so.
    cdp.wait_for(
        &advocate,
        "document.querySelector('#chats .chat-panel.ended')",
    )
    .await;
    let _ = chromium.kill().await;
}
