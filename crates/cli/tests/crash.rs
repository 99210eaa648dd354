//! Invariant 6: a write that was acknowledged survives `kill -9`. Also: the server's logs never contain
//! the personal data that passes through it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn lantern(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lantern"));
    cmd.env_remove("LANTERN_KEYS")
        .env_remove("LANTERN_CONFIG")
        .env("LANTERN_DATABASE", dir.join("lantern.db"))
        .env("LANTERN_KEY_FILE", dir.join("lantern.keys"))
        .env("LANTERN_LOG_FORMAT", "json");
    cmd
}

fn run_ok(cmd: &mut Command, stdin: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `lantern serve` on a free port; returns the child and its address.
fn serve(dir: &std::path::Path) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = lantern(dir)
        .args(["serve", "--bind", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join(format!("serve-{port}.log"))).unwrap(),
        ))
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(&addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, addr)
}

/// One HTTP/1.1 request; returns the status code and body, or None when the connection failed.
fn http(addr: &str, method: &str, path: &str, token: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut reader = BufReader::new(s);
    let mut status = String::new();
    reader.read_line(&mut status).ok()?;
    let code = status.split_whitespace().nth(1)?.parse().ok()?;
    let mut rest = String::new();
    reader.read_to_string(&mut rest).ok()?;
    Some((code, rest.split("\r\n\r\n").nth(1).unwrap_or("").to_owned()))
}

#[test]
fn acknowledged_writes_survive_kill_9_and_logs_hold_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        lantern(d).args(["hotlines", "add", "--slug", "north", "--name", "North"]),
        "",
    );
    run_ok(
        lantern(d).args([
            "users",
            "add",
            "--hotline",
            "north",
            "--username",
            "root-admin",
            "--role",
            "admin",
            "--full-name",
            "Root Admin",
        ]),
        "a long password 1\n",
    );
    let token = run_ok(
        lantern(d).args([
            "tokens",
            "create",
            "--username",
            "root-admin",
            "--name",
            "crash",
        ]),
        "",
    )
    .trim()
    .to_owned();

    let (mut child, addr) = serve(d);
    // Writers create users until the server is killed; each records what was acknowledged.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..4 {
        let addr = addr.clone();
        let token = token.clone();
        let acked = acked.clone();
        writers.push(std::thread::spawn(move || {
            for i in 0..10_000 {
                let name = format!("w{w}-user{i}");
                let body = format!(
                    r#"{{"username":"{name}","full_name":"Quintanilla Secretname {w} {i}","role":"advocate","phone":"555 201 {:04}","password":"a long password 2"}}"#,
                    i % 10_000
                );
                match http(&addr, "POST", "/api/v1/users", &token, &body) {
                    Some((201, _)) => acked.lock().unwrap().push(name),
                    Some((code, body)) => panic!("unexpected {code}: {body}"),
                    None => return,
                }
            }
        }));
    }
    let start = Instant::now();
    while acked.lock().unwrap().len() < 30 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 30,
        "only {} writes were acknowledged",
        acked.len()
    );

    let listed = run_ok(lantern(d).args(["users", "list", "--hotline", "north"]), "");
    for name in &acked {
        assert!(
            listed.contains(&format!("{name}\t")),
            "acknowledged user {name} was lost"
        );
    }
    assert!(run_ok(lantern(d).args(["audit", "verify"]), "").contains("intact"));

    let (mut again, addr) = serve(d);
    let (code, _) = http(&addr, "GET", "/api/v1/users", &token, "").unwrap();
    assert_eq!(code, 200);
    again.kill().unwrap();
    again.wait().unwrap();

    for entry in std::fs::read_dir(d).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "log") {
            let log = std::fs::read_to_string(&p).unwrap();
            assert!(
                log.contains("\"http.route\""),
                "requests are logged as JSON"
            );
            for needle in [
                "Secretname",
                "Quintanilla",
                "555 201",
                "a long password",
                &token[4..20],
            ] {
                assert!(
                    !log.contains(needle),
                    "{needle} leaked into {}",
                    p.display()
                );
            }
        }
    }
}
