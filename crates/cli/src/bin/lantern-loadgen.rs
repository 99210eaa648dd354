//! `lantern-loadgen`: a small closed-loop HTTP/1.1 load generator for Lantern's benchmarks, run as a
//! second process against a running server on loopback. Each of `--concurrency` clients keeps one
//! connection alive and sends `--requests / --concurrency` requests one after another; it reports
//! throughput and latency percentiles as one JSON line.
//!
//! ```text
//! lantern-loadgen --addr 127.0.0.1:8080 --path /api/v1/contacts --token lnt_… --body-file contact.json \
//!                 --concurrency 64 --requests 20000
//! ```
//!
//! `--bodies FILE` takes one JSON body per line instead (requests cycle through them, each client
//! starting at its own offset), so a benchmark can replay many different queries. `--signed-bodies FILE`
//! takes lines of `SIGNATURE<TAB>BODY` and sends each body with its `X-Twilio-Signature`, for the SMS
//! webhook. `--paths FILE` takes one request path per line (same method and body), for GET questions
//! that differ only in their query string.

use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

struct Args {
    addr: String,
    path: String,
    paths: Vec<String>,
    method: String,
    token: Option<String>,
    body: Vec<u8>,
    bodies: Vec<Vec<u8>>,
    signatures: Vec<String>,
    content_type: String,
    concurrency: usize,
    requests: usize,
    expect: u16,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        addr: "127.0.0.1:8080".into(),
        path: "/healthz".into(),
        paths: Vec::new(),
        method: "GET".into(),
        token: None,
        body: Vec::new(),
        bodies: Vec::new(),
        signatures: Vec::new(),
        content_type: "application/json".into(),
        concurrency: 64,
        requests: 10_000,
        expect: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => a.addr = val()?,
            "--path" => a.path = val()?,
            "--method" => a.method = val()?,
            "--token" => a.token = Some(val()?),
            "--body-file" => {
                let p = val()?;
                a.body = std::fs::read(&p).map_err(|e| format!("--body-file {p}: {e}"))?;
                if a.method == "GET" {
                    a.method = "POST".into();
                }
            }
            "--bodies" => {
                let p = val()?;
                let text = std::fs::read_to_string(&p).map_err(|e| format!("--bodies {p}: {e}"))?;
                a.bodies = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| l.as_bytes().to_vec())
                    .collect();
                if a.bodies.is_empty() {
                    return Err(format!("--bodies {p}: no lines"));
                }
                if a.method == "GET" {
                    a.method = "POST".into();
                }
            }
            "--signed-bodies" => {
                let p = val()?;
                let text =
                    std::fs::read_to_string(&p).map_err(|e| format!("--signed-bodies {p}: {e}"))?;
                for (i, l) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
                    let (sig, body) = l
                        .split_once('\t')
                        .ok_or_else(|| format!("--signed-bodies {p}: line {} has no tab", i + 1))?;
                    a.signatures.push(sig.to_owned());
                    a.bodies.push(body.as_bytes().to_vec());
                }
                if a.bodies.is_empty() {
                    return Err(format!("--signed-bodies {p}: no lines"));
                }
                a.method = "POST".into();
            }
            "--paths" => {
                let p = val()?;
                let text = std::fs::read_to_string(&p).map_err(|e| format!("--paths {p}: {e}"))?;
                a.paths = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect();
                if a.paths.iter().any(|l| !l.starts_with('/')) {
                    return Err(format!("--paths {p}: every line must be a path starting with /"));
                }
                if a.paths.is_empty() {
                    return Err(format!("--paths {p}: no lines"));
                }
            }
            "--content-type" => a.content_type = val()?,
            "--concurrency" => a.concurrency = val()?.parse().map_err(|_| "--concurrency: a number")?,
            "--requests" => a.requests = val()?.parse().map_err(|_| "--requests: a number")?,
            "--expect" => a.expect = val()?.parse().map_err(|_| "--expect: a status code")?,
            "--help" | "-h" => return Err("usage: lantern-loadgen --addr HOST:PORT --path PATH | --paths FILE [--method M] [--token T] [--body-file F | --bodies NDJSON | --signed-bodies TSV] [--content-type T] [--concurrency N] [--requests N] [--expect STATUS]".into()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if a.concurrency == 0 || a.requests == 0 {
        return Err("--concurrency and --requests must be positive".into());
    }
    Ok(a)
}

/// Every request the clients send, written out once before the clock starts (each client starts at its
/// own offset in the list).
fn requests(args: &Args) -> Vec<Vec<u8>> {
    let request_for = |path: &str, body: &[u8], signature: Option<&str>| -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            args.method,
            path,
            args.addr,
            body.len()
        );
        if !body.is_empty() {
            head.push_str(&format!("Content-Type: {}\r\n", args.content_type));
        }
        if let Some(t) = &args.token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(s) = signature {
            head.push_str(&format!("X-Twilio-Signature: {s}\r\n"));
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        request
    };
    if !args.paths.is_empty() {
        args.paths
            .iter()
            .map(|p| request_for(p, &args.body, None))
            .collect()
    } else if args.bodies.is_empty() {
        vec![request_for(&args.path, &args.body, None)]
    } else {
        args.bodies
            .iter()
            .enumerate()
            .map(|(i, b)| request_for(&args.path, b, args.signatures.get(i).map(String::as_str)))
            .collect()
    }
}

async fn client(
    args: std::sync::Arc<Args>,
    requests: std::sync::Arc<Vec<Vec<u8>>>,
    first: usize,
    n: usize,
) -> Result<Vec<Duration>, String> {
    let stream = TcpStream::connect(&args.addr)
        .await
        .map_err(|e| format!("connect {}: {e}", args.addr))?;
    stream.set_nodelay(true).ok();
    let mut stream = BufReader::new(stream);
    let mut lat = Vec::with_capacity(n);
    let mut line = String::new();
    for k in 0..n {
        let request = &requests[(first + k) % requests.len()];
        let t = Instant::now();
        stream
            .get_mut()
            .write_all(request)
            .await
            .map_err(|e| e.to_string())?;
        line.clear();
        stream
            .read_line(&mut line)
            .await
            .map_err(|e| e.to_string())?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let mut len = 0usize;
        loop {
            line.clear();
            stream
                .read_line(&mut line)
                .await
                .map_err(|e| e.to_string())?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().map_err(|_| "bad content-length")?;
            }
        }
        let mut body = vec![0u8; len];
        stream
            .read_exact(&mut body)
            .await
            .map_err(|e| e.to_string())?;
        lat.push(t.elapsed());
        if status != args.expect {
            return Err(format!(
                "expected {}, got {status}: {}",
                args.expect,
                String::from_utf8_lossy(&body)
            ));
        }
    }
    Ok(lat)
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => std::sync::Arc::new(a),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let per = args.requests / args.concurrency;
    let requests = std::sync::Arc::new(requests(&args));
    let start = Instant::now();
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|i| {
            tokio::spawn(client(
                args.clone(),
                requests.clone(),
                i * per,
                per + usize::from(i < args.requests % args.concurrency),
            ))
        })
        .collect();
    let mut lat = Vec::with_capacity(args.requests);
    for t in tasks {
        match t.await {
            Ok(Ok(l)) => lat.extend(l),
            Ok(Err(e)) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |q: f64| {
        lat[((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len()) - 1].as_secs_f64() * 1000.0
    };
    println!(
        "{{\"requests\":{},\"concurrency\":{},\"seconds\":{:.3},\"per_second\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2}}}",
        lat.len(),
        args.concurrency,
        secs,
        lat.len() as f64 / secs,
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
}
