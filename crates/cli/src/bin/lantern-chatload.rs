//! `lantern-chatload`: the web chat benchmark's client, run as a second process against a running
//! `lantern serve` on loopback. It opens `--chats` help-seeker chats on `/chat/socket` and one console per
//! token of `--tokens` on `/chats/socket`; the consoles accept every chat (each up to the server's
//! `[chat] advocate_limit`); then every chat exchanges `--messages` messages each way, one every
//! `--interval-ms` per side, all chats at once. Each message carries its number and the time it was sent;
//! the receiver measures the delivery latency (sent by one socket, received by the other: stored by the
//! server in between) and checks the numbers arrive one after another. Prints one JSON line.
//!
//! ```text
//! lantern-chatload --addr 127.0.0.1:8080 --tokens tokens.txt --chats 1000 --messages 10 --interval-ms 1000
//! ```

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;

struct Args {
    addr: String,
    tokens: Vec<String>,
    chats: usize,
    messages: usize,
    interval: Duration,
}

fn usage() -> ! {
    eprintln!(
        "usage: lantern-chatload --addr HOST:PORT --tokens FILE [--chats N] [--messages M] [--interval-ms MS]"
    );
    std::process::exit(2)
}

fn args() -> Args {
    let mut a = Args {
        addr: String::new(),
        tokens: Vec::new(),
        chats: 1000,
        messages: 10,
        interval: Duration::from_millis(1000),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| usage());
        let num = |v: &str| -> usize {
            v.parse().unwrap_or_else(|_| {
                eprintln!("{k}: expected a number, got `{v}`");
                std::process::exit(2)
            })
        };
        match k.as_str() {
            "--addr" => a.addr = v,
            "--tokens" => {
                let text = std::fs::read_to_string(&v).unwrap_or_else(|e| {
                    eprintln!("--tokens: cannot read {v}: {e}");
                    std::process::exit(2)
                });
                a.tokens = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "--chats" => a.chats = num(&v),
            "--messages" => a.messages = num(&v),
            "--interval-ms" => a.interval = Duration::from_millis(num(&v) as u64),
            _ => usage(),
        }
    }
    if a.addr.is_empty() || a.tokens.is_empty() || a.chats == 0 {
        usage();
    }
    a
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(url: &str, bearer: Option<&str>) -> anyhow::Result<Ws> {
    let mut req = url.into_client_request()?;
    if let Some(t) = bearer {
        req.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {t}"))?,
        );
    }
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

/// What a receiver saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    received: u64,
    reordered: u64,
}

impl Tally {
    /// A message numbered `k` sent at `sent_us`; `last` is the last number seen on this chat and direction.
    fn record(&mut self, last: &mut u64, k: u64, sent_us: u64, now_us: u64) {
        self.received += 1;
        if k != *last + 1 {
            self.reordered += 1;
        }
        *last = (*last).max(k);
        self.latencies_us.push(now_us.saturating_sub(sent_us));
    }
}

/// Parses our message texts: `N:K:SENT_US`.
fn parse_text(text: &str) -> Option<(u64, u64)> {
    let mut p = text.split(':');
    let _chat = p.next()?;
    let k = p.next()?.parse().ok()?;
    let sent = p.next()?.parse().ok()?;
    Some((k, sent))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args();
    let clock = Instant::now();
    let now_us = move || clock.elapsed().as_micros() as u64;
    let seeker_url = format!("ws://{}/chat/socket", a.addr);
    let console_url = format!("ws://{}/chats/socket", a.addr);

    // The consoles first, so every chat has somewhere to go.
    let assigned = Arc::new(AtomicU64::new(0));
    let to_advocates = Arc::new(Mutex::new(Tally::default()));
    let mut consoles = Vec::new();
    for token in &a.tokens {
        let ws = open(&console_url, Some(token)).await?;
        let (mut sink, mut stream) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(t) = rx.recv().await {
                if sink.send(Message::Text(t.into())).await.is_err() {
                    break;
                }
            }
        });
        let chats: Arc<Mutex<Vec<String>>> = Arc::default();
        let (assigned2, tally, chats2) = (assigned.clone(), to_advocates.clone(), chats.clone());
        let reader = tokio::spawn(async move {
            let mut last: HashMap<String, u64> = HashMap::new();
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(t) = msg else { continue };
                let Ok(f) = serde_json::from_str::<Value>(t.as_str()) else {
                    continue;
                };
                match f["type"].as_str() {
                    // A chat is announced again with its transcript after an accept: count it once.
                    Some("assigned") => {
                        let chat = f["chat"].as_str().unwrap_or("").to_owned();
                        let mut mine = chats2.lock().await;
                        if !mine.contains(&chat) {
                            mine.push(chat);
                            assigned2.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some("message") if f["message"]["author"]["kind"] == "seeker" => {
                        let chat = f["chat"].as_str().unwrap_or("").to_owned();
                        if let Some((k, sent)) = f["message"]["text"].as_str().and_then(parse_text)
                        {
                            let now = now_us();
                            let l = last.entry(chat).or_insert(0);
                            tally.lock().await.record(l, k, sent, now);
                        }
                    }
                    _ => {}
                }
            }
        });
        consoles.push((tx, chats, reader));
    }

    // The help-seekers.
    let to_seekers = Arc::new(Mutex::new(Tally::default()));
    let accepted = Arc::new(AtomicU64::new(0));
    let mut seekers = Vec::new();
    for i in 0..a.chats {
        let ws = open(&seeker_url, None).await?;
        let (mut sink, mut stream) = ws.split();
        sink.send(Message::Text(
            json!({"type": "start", "language": if i % 2 == 0 { "en" } else { "es" }, "safe_to_chat": "yes"})
                .to_string()
                .into(),
        ))
        .await?;
        let (tally, accepted2) = (to_seekers.clone(), accepted.clone());
        let reader = tokio::spawn(async move {
            let mut last = 0u64;
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(t) = msg else { continue };
                let Ok(f) = serde_json::from_str::<Value>(t.as_str()) else {
                    continue;
                };
                match f["type"].as_str() {
                    Some("accepted") => {
                        accepted2.fetch_add(1, Ordering::Relaxed);
                    }
                    Some("message") if f["message"]["author"]["kind"] == "advocate" => {
                        if let Some((k, sent)) = f["message"]["text"].as_str().and_then(parse_text)
                        {
                            let now = now_us();
                            tally.lock().await.record(&mut last, k, sent, now);
                        }
                    }
                    _ => {}
                }
            }
        });
        seekers.push((sink, reader));
    }

    // Every console takes chats until all are taken (each up to the server's limit).
    let setup = Instant::now();
    let mut round = 0;
    while (assigned.load(Ordering::Relaxed) as usize) < a.chats {
        for (tx, _, _) in &consoles {
            let _ = tx.send(json!({"type": "accept_next"}).to_string());
        }
        round += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if setup.elapsed() > Duration::from_secs(120) {
            anyhow::bail!(
                "only {} of {} chats were accepted after {round} rounds: is [chat] advocate_limit × tokens ≥ chats?",
                assigned.load(Ordering::Relaxed),
                a.chats
            );
        }
    }
    while (accepted.load(Ordering::Relaxed) as usize) < a.chats {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if setup.elapsed() > Duration::from_secs(180) {
            anyhow::bail!("the help-seekers did not all hear they were accepted");
        }
    }
    let setup_s = setup.elapsed().as_secs_f64();

    // The exchange: both sides of every chat send at once, spread over the interval.
    let start = Instant::now();
    let mut senders = Vec::new();
    let n = a.chats;
    let (seeker_sinks, seeker_readers): (Vec<_>, Vec<_>) = seekers.into_iter().unzip();
    for (i, mut sink) in seeker_sinks.into_iter().enumerate() {
        let (m, interval) = (a.messages, a.interval);
        let offset = interval.mul_f64(i as f64 / n as f64);
        senders.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut tick = tokio::time::interval(interval);
            for k in 1..=m {
                tick.tick().await;
                let text = format!("s{i}:{k}:{}", now_us());
                if sink
                    .send(Message::Text(
                        json!({"type": "send", "text": text}).to_string().into(),
                    ))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            sink
        }));
    }
    let mut console_senders = Vec::new();
    for (tx, chats, _) in &consoles {
        for (j, chat) in chats.lock().await.iter().cloned().enumerate() {
            let (tx, m, interval) = (tx.clone(), a.messages, a.interval);
            let offset = interval.mul_f64(((j * 7919) % n) as f64 / n as f64);
            console_senders.push(tokio::spawn(async move {
                tokio::time::sleep(offset).await;
                let mut tick = tokio::time::interval(interval);
                for k in 1..=m {
                    tick.tick().await;
                    let text = format!("a:{k}:{}", now_us());
                    let _ =
                        tx.send(json!({"type": "send", "chat": chat, "text": text}).to_string());
                }
            }));
        }
    }
    let mut kept_sinks = Vec::new();
    for s in senders {
        kept_sinks.push(s.await?);
    }
    for s in console_senders {
        s.await?;
    }
    // Let the last messages arrive.
    let expected = (a.chats * a.messages) as u64;
    let drain = Instant::now();
    while drain.elapsed() < Duration::from_secs(10) {
        let got = to_advocates.lock().await.received + to_seekers.lock().await.received;
        if got >= 2 * expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = start.elapsed().as_secs_f64();
    let up = to_advocates.lock().await;
    let down = to_seekers.lock().await;
    let mut all: Vec<u64> = up
        .latencies_us
        .iter()
        .chain(down.latencies_us.iter())
        .copied()
        .collect();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        all[i] as f64 / 1000.0
    };
    let delivered = up.received + down.received;
    println!(
        "{}",
        json!({
            "chats": a.chats,
            "consoles": a.tokens.len(),
            "messages_each_way": a.messages,
            "interval_ms": a.interval.as_millis() as u64,
            "expected": 2 * expected,
            "delivered": delivered,
            "lost": (2 * expected).saturating_sub(delivered),
            "reordered": up.reordered + down.reordered,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": pct(1.0),
            "messages_per_s": delivered as f64 / seconds,
            "setup_s": setup_s,
            "seconds": seconds,
        })
    );
    drop(kept_sinks);
    drop(seeker_readers);
    Ok(())
}
