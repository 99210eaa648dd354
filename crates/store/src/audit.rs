//! The audit chain: an append-only, hash-chained log of every write, every read of personal data, and
//! every login attempt.
//!
//! Each event is sealed with `HMAC-SHA256(audit_key, prev_hash ‖ canonical(event))`, where `prev_hash` is
//! the seal of the event before it (32 zero bytes for the first). A head row holds the last sequence
//! number and seal, so that removing events at the end is detected as well as changes and gaps in the
//! middle. Verification needs the key file: an attacker who can write to the database but lacks the key
//! cannot forge seals.

use crate::crypto::Keyring;
use serde::Serialize;

/// Who did something, for whom, and from where; passed to every store call that writes or reads
/// personal data.
#[derive(Debug, Clone, Serialize)]
pub struct AuditCtx {
    /// The hotline acted in, when there is one.
    pub hotline_id: Option<String>,
    /// The acting user, when there is one.
    pub actor_id: Option<String>,
    /// A label for the actor: a username, `system`, `cli`, or `anonymous`.
    pub actor: String,
    /// Where the action came from: an IP address, `cli`, or a channel name.
    pub source: String,
}

impl AuditCtx {
    /// An action taken by the command-line tool on the operator's behalf.
    pub fn cli(hotline_id: Option<String>) -> Self {
        AuditCtx {
            hotline_id,
            actor_id: None,
            actor: "cli".into(),
            source: "cli".into(),
        }
    }

    /// The same actor, acting on a record of `hotline_id` (the event is filed under that hotline).
    pub fn in_hotline(&self, hotline_id: &str) -> Self {
        AuditCtx {
            hotline_id: Some(hotline_id.to_owned()),
            ..self.clone()
        }
    }

    /// An action taken by Lantern itself (jobs, the demo loader).
    pub fn system(hotline_id: Option<String>) -> Self {
        AuditCtx {
            hotline_id,
            actor_id: None,
            actor: "system".into(),
            source: "system".into(),
        }
    }
}

/// One stored audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When, in Unix microseconds.
    pub at_us: i64,
    /// The hotline, if any.
    pub hotline_id: Option<String>,
    /// The acting user, if any.
    pub actor_id: Option<String>,
    /// The actor's label.
    pub actor: String,
    /// What was done, as `record.verb` (`user.create`, `login.failure`, `case.read`).
    pub action: String,
    /// The kind of record acted on.
    pub record_type: String,
    /// The record acted on, if one.
    pub record_id: Option<String>,
    /// Where from.
    pub source: String,
    /// A JSON object with details; never personal data.
    pub detail: String,
    /// The seal of the event before.
    #[serde(skip)]
    pub prev_hash: Vec<u8>,
    /// This event's seal.
    #[serde(skip)]
    pub hash: Vec<u8>,
}

fn put(buf: &mut Vec<u8>, field: &[u8]) {
    buf.extend_from_slice(&(field.len() as u64).to_be_bytes());
    buf.extend_from_slice(field);
}

fn put_opt(buf: &mut Vec<u8>, field: Option<&str>) {
    match field {
        None => buf.push(0),
        Some(s) => {
            buf.push(1);
            put(buf, s.as_bytes());
        }
    }
}

/// The seal of an event, given the seal before it.
pub fn seal(keys: &Keyring, e: &AuditEvent, prev_hash: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    put(&mut buf, prev_hash);
    buf.extend_from_slice(&e.seq.to_be_bytes());
    buf.extend_from_slice(&e.at_us.to_be_bytes());
    put_opt(&mut buf, e.hotline_id.as_deref());
    put_opt(&mut buf, e.actor_id.as_deref());
    put(&mut buf, e.actor.as_bytes());
    put(&mut buf, e.action.as_bytes());
    put(&mut buf, e.record_type.as_bytes());
    put_opt(&mut buf, e.record_id.as_deref());
    put(&mut buf, e.source.as_bytes());
    put(&mut buf, e.detail.as_bytes());
    keys.audit_mac(&buf)
}

/// The seal of "nothing before": 32 zero bytes.
pub const GENESIS: [u8; 32] = [0; 32];

/// What `lantern audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    /// Every event is present, in order, and sealed.
    Intact {
        /// How many events the chain holds.
        events: i64,
    },
    /// The first problem found.
    Broken {
        /// The sequence number of the first altered or missing event.
        seq: i64,
        /// What is wrong with it.
        problem: Problem,
    },
}

/// How an event fails verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The event is not there (a gap in the sequence, or events cut off at the end).
    Missing,
    /// The event's content or seal was changed.
    Altered,
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verification::Intact { events } => {
                write!(f, "audit chain intact: {events} events verified")
            }
            Verification::Broken {
                seq,
                problem: Problem::Missing,
            } => {
                write!(f, "audit chain broken: event {seq} is missing")
            }
            Verification::Broken {
                seq,
                problem: Problem::Altered,
            } => {
                write!(f, "audit chain broken: event {seq} was altered")
            }
        }
    }
}

/// Walks events in order and finds the first problem; keeps only O(1) state so it can run over a
/// stream of millions of events.
#[derive(Debug)]
pub struct Verifier<'k> {
    keys: &'k Keyring,
    expected_seq: i64,
    prev_hash: Vec<u8>,
    broken: Option<Verification>,
}

impl<'k> Verifier<'k> {
    /// Starts at the beginning of the chain.
    pub fn new(keys: &'k Keyring) -> Self {
        Verifier {
            keys,
            expected_seq: 1,
            prev_hash: GENESIS.to_vec(),
            broken: None,
        }
    }

    /// Checks the next event; returns false once the chain is found broken.
    pub fn push(&mut self, e: &AuditEvent) -> bool {
        if self.broken.is_some() {
            return false;
        }
        if e.seq != self.expected_seq {
            self.broken = Some(Verification::Broken {
                seq: self.expected_seq,
                problem: Problem::Missing,
            });
            return false;
        }
        if e.prev_hash != self.prev_hash || seal(self.keys, e, &self.prev_hash) != e.hash {
            self.broken = Some(Verification::Broken {
                seq: e.seq,
                problem: Problem::Altered,
            });
            return false;
        }
        self.prev_hash = e.hash.clone();
        self.expected_seq += 1;
        true
    }

    /// Ends the walk against the head (last sequence number and seal the database says it wrote).
    pub fn finish(self, head_seq: i64, head_hash: &[u8]) -> Verification {
        if let Some(b) = self.broken {
            return b;
        }
        let last = self.expected_seq - 1;
        if head_seq > last {
            return Verification::Broken {
                seq: last + 1,
                problem: Problem::Missing,
            };
        }
        if head_seq < last || (last > 0 && head_hash != self.prev_hash.as_slice()) {
            return Verification::Broken {
                seq: head_seq.max(1),
                problem: Problem::Altered,
            };
        }
        Verification::Intact { events: last }
    }
}
