-- The advocate's core loop: contacts, screening determinations and their review, cases, parties and
-- their identifiers, tasks, notes. Codes are DOMAIN.md's strings; personal data is ciphertext (BYTEA);
-- exact lookups go through keyed blind indexes.

CREATE TABLE case_numbers (
    hotline_id  TEXT PRIMARY KEY REFERENCES hotlines(id),
    last        BIGINT NOT NULL
);

CREATE TABLE cases (
    id              TEXT PRIMARY KEY,
    hotline_id      TEXT NOT NULL REFERENCES hotlines(id),
    number          BIGINT NOT NULL,
    status          TEXT NOT NULL,
    form            TEXT NOT NULL,
    state           TEXT,
    details         TEXT NOT NULL,
    safety_plan     BYTEA,
    assignee_id     TEXT REFERENCES users(id),
    opened_at       BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    closed_at       BIGINT,
    UNIQUE (hotline_id, number)
);
CREATE INDEX cases_list ON cases (hotline_id, opened_at);
CREATE INDEX cases_status ON cases (hotline_id, status);

CREATE TABLE contacts (
    id                  TEXT PRIMARY KEY,
    hotline_id          TEXT NOT NULL REFERENCES hotlines(id),
    case_id             TEXT REFERENCES cases(id),
    channel             TEXT NOT NULL,
    signaler_type       TEXT,
    category            TEXT,
    language            TEXT,
    state               TEXT,
    zip                 TEXT,
    location_precision  TEXT NOT NULL,
    city                BYTEA,
    safe_to_talk        TEXT,
    safe_contact        BYTEA,
    interpreter         TEXT,
    narrative           BYTEA,
    occurred_at         BIGINT NOT NULL,
    created_by          TEXT REFERENCES users(id),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX contacts_case ON contacts (case_id);
CREATE INDEX contacts_list ON contacts (hotline_id, occurred_at);

CREATE TABLE determinations (
    id                  TEXT PRIMARY KEY,
    hotline_id          TEXT NOT NULL REFERENCES hotlines(id),
    contact_id          TEXT NOT NULL REFERENCES contacts(id),
    case_id             TEXT REFERENCES cases(id),
    answers             TEXT NOT NULL,
    outcome             TEXT NOT NULL,
    forms               TEXT NOT NULL,
    minor_rule_applied  BOOLEAN NOT NULL,
    missing             TEXT NOT NULL,
    reasons             TEXT NOT NULL,
    rules_version       TEXT NOT NULL,
    created_by          TEXT REFERENCES users(id),
    created_at          BIGINT NOT NULL,
    review_status       TEXT,
    reviewed_by         TEXT REFERENCES users(id),
    reviewed_at         BIGINT,
    review_comment      BYTEA
);
CREATE INDEX determinations_contact ON determinations (contact_id);
CREATE INDEX determinations_review ON determinations (hotline_id, review_status, created_at);

CREATE TABLE parties (
    id           TEXT PRIMARY KEY,
    hotline_id   TEXT NOT NULL REFERENCES hotlines(id),
    case_id      TEXT NOT NULL REFERENCES cases(id),
    role         TEXT NOT NULL,
    gender       TEXT,
    age          BIGINT,
    age_band     TEXT,
    nationality  TEXT,
    details      BYTEA,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX parties_case ON parties (case_id);

CREATE TABLE party_identifiers (
    id          TEXT PRIMARY KEY,
    hotline_id  TEXT NOT NULL REFERENCES hotlines(id),
    party_id    TEXT NOT NULL REFERENCES parties(id) ON DELETE CASCADE,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    kind        TEXT NOT NULL,
    value       BYTEA NOT NULL,
    bidx        BYTEA
);
CREATE INDEX party_identifiers_party ON party_identifiers (party_id);
CREATE INDEX party_identifiers_bidx ON party_identifiers (hotline_id, bidx);

CREATE TABLE tasks (
    id           TEXT PRIMARY KEY,
    hotline_id   TEXT NOT NULL REFERENCES hotlines(id),
    case_id      TEXT NOT NULL REFERENCES cases(id),
    title        BYTEA NOT NULL,
    due_at       BIGINT,
    assignee_id  TEXT REFERENCES users(id),
    done_at      BIGINT,
    created_by   TEXT REFERENCES users(id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX tasks_case ON tasks (case_id);
CREATE INDEX tasks_assignee ON tasks (hotline_id, assignee_id, done_at);

CREATE TABLE notes (
    id          TEXT PRIMARY KEY,
    hotline_id  TEXT NOT NULL REFERENCES hotlines(id),
    case_id     TEXT NOT NULL REFERENCES cases(id),
    body        BYTEA NOT NULL,
    author_id   TEXT REFERENCES users(id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX notes_case ON notes (case_id);
