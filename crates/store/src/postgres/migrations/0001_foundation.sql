-- Foundation: hotlines, partner organisations, users, sessions, API tokens, the audit chain.
-- Times are Unix microseconds (BIGINT); personal data is ciphertext (BYTEA) written by the crypto module.

CREATE TABLE hotlines (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE partner_orgs (
    id          TEXT PRIMARY KEY,
    hotline_id  TEXT NOT NULL REFERENCES hotlines(id),
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (hotline_id, name)
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    hotline_id      TEXT NOT NULL REFERENCES hotlines(id),
    username        TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('advocate','supervisor','analyst','directory_manager','admin','partner')),
    partner_org_id  TEXT REFERENCES partner_orgs(id),
    full_name       BYTEA NOT NULL,
    phone           BYTEA,
    phone_bidx      BYTEA,
    password_hash   TEXT NOT NULL,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins   BIGINT NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK ((role = 'partner') = (partner_org_id IS NOT NULL))
);
CREATE INDEX users_hotline ON users (hotline_id);
CREATE INDEX users_phone_bidx ON users (phone_bidx);

CREATE TABLE sessions (
    token_hash    BYTEA PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    hotline_id    TEXT NOT NULL REFERENCES hotlines(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    token_hash    BYTEA NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);

CREATE TABLE audit_events (
    seq          BIGINT PRIMARY KEY,
    at           BIGINT NOT NULL,
    hotline_id   TEXT,
    actor_id     TEXT,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    record_type  TEXT NOT NULL,
    record_id    TEXT,
    source       TEXT NOT NULL,
    detail       TEXT NOT NULL,
    prev_hash    BYTEA NOT NULL,
    hash         BYTEA NOT NULL
);
CREATE INDEX audit_events_hotline ON audit_events (hotline_id, seq);

-- The log is append-only: the database itself refuses changes and deletions through SQL.
CREATE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_refuse();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse();
