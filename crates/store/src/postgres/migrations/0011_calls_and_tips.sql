-- Voice calls and the public tip form's rate limits.
--
-- A call is one phone contact (channel `phone`): created by Twilio's voice webhook (with its CallSid, unique
-- per hotline) or by an advocate logging a call by hand (no CallSid). The caller's number is ciphertext with a
-- keyed blind index; a warm transfer's free-text target is ciphertext too.
--
-- A rate-limit bucket counts requests per fixed window for one keyed hash of a client address: the address
-- itself is never stored.

CREATE TABLE calls (
    id                    TEXT PRIMARY KEY,
    hotline_id            TEXT NOT NULL REFERENCES hotlines(id),
    contact_id            TEXT NOT NULL REFERENCES contacts(id),
    call_sid              TEXT,               -- Twilio's CA… identifier; NULL for a call logged by hand
    hotline_number        TEXT,               -- the hotline's own number (E.164), not personal data
    caller                BYTEA,               -- NULL when the caller ID was withheld
    caller_bidx           BYTEA,
    direction             TEXT NOT NULL,      -- inbound, outbound-api, outbound-dial
    status                TEXT NOT NULL,      -- queued, ringing, in-progress, completed, busy, failed, no-answer, canceled
    advocate_id           TEXT REFERENCES users(id),
    started_at            BIGINT NOT NULL,
    answered_at           BIGINT,
    ended_at              BIGINT,
    duration_s            BIGINT,
    interpreter_vendor    TEXT,
    transfer_target       BYTEA,               -- free text, encrypted
    transfer_service_id   TEXT,               -- a directory service, when the target is one
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX calls_sid ON calls (hotline_id, call_sid);
CREATE UNIQUE INDEX calls_contact ON calls (contact_id);
CREATE INDEX calls_list ON calls (hotline_id, started_at);
CREATE INDEX calls_caller ON calls (hotline_id, caller_bidx);

CREATE TABLE rate_limits (
    bucket        TEXT NOT NULL,              -- what is limited, e.g. tip_form
    key_hash      BYTEA NOT NULL,              -- keyed hash of the client address
    window_start  BIGINT NOT NULL,
    count         BIGINT NOT NULL,
    PRIMARY KEY (bucket, key_hash)
);
CREATE INDEX rate_limits_age ON rate_limits (bucket, window_start);
