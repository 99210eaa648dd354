-- Cross-case linkage: the job's runs (each a row claimed with a lease, so one process runs it), the links it
-- found between parties of different cases, the components (networks of cases) they form, and the
-- analysts' confirm/reject decisions, kept per pair of parties so they outlive the runs and label the next.
-- Nothing here is personal data: ids, weights, field names and agreement levels only.

CREATE TABLE linkage_runs (
    id            TEXT PRIMARY KEY,
    hotline_id    TEXT NOT NULL REFERENCES hotlines(id),
    reason        TEXT NOT NULL,      -- manual, schedule
    status        TEXT NOT NULL,      -- queued, running, done, failed
    requested_by  TEXT REFERENCES users(id),
    requested_at  BIGINT NOT NULL,
    worker        TEXT,
    lease_until   BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 0,
    started_at    BIGINT,
    finished_at   BIGINT,
    records       BIGINT,
    candidates    BIGINT,
    links         BIGINT,
    components    BIGINT,
    model         TEXT,               -- the trained m/u-probabilities and prior, as JSON
    error         TEXT
);
-- At most one queued or running run per hotline: a second request joins the first.
CREATE UNIQUE INDEX linkage_runs_active ON linkage_runs (hotline_id) WHERE status IN ('queued', 'running');
CREATE INDEX linkage_runs_latest ON linkage_runs (hotline_id, requested_at);
CREATE INDEX linkage_runs_claim ON linkage_runs (status, requested_at);

CREATE TABLE linkage_components (
    id            TEXT PRIMARY KEY,
    hotline_id    TEXT NOT NULL REFERENCES hotlines(id),
    run_id        TEXT NOT NULL REFERENCES linkage_runs(id),
    cases         TEXT NOT NULL,      -- JSON list of case ids
    case_count    BIGINT NOT NULL,
    link_count    BIGINT NOT NULL,
    top_weight    BIGINT NOT NULL     -- the strongest link's weight, in thousandths of a bit
);
CREATE INDEX linkage_components_hotline ON linkage_components (hotline_id, case_count);

CREATE TABLE linkage_links (
    id            TEXT PRIMARY KEY,
    hotline_id    TEXT NOT NULL REFERENCES hotlines(id),
    run_id        TEXT NOT NULL REFERENCES linkage_runs(id),
    component_id  TEXT NOT NULL REFERENCES linkage_components(id),
    party_a       TEXT NOT NULL REFERENCES parties(id),
    party_b       TEXT NOT NULL REFERENCES parties(id),
    case_a        TEXT NOT NULL REFERENCES cases(id),
    case_b        TEXT NOT NULL REFERENCES cases(id),
    weight        BIGINT NOT NULL,    -- match weight (log2 odds), in thousandths
    probability   BIGINT NOT NULL,    -- match probability, in millionths
    explanation   TEXT NOT NULL,      -- JSON [{field, level, weight}]
    forced        BOOLEAN NOT NULL    -- kept because an analyst confirmed it
);
CREATE INDEX linkage_links_component ON linkage_links (component_id);
CREATE INDEX linkage_links_hotline ON linkage_links (hotline_id);

CREATE TABLE linkage_decisions (
    hotline_id    TEXT NOT NULL REFERENCES hotlines(id),
    party_a       TEXT NOT NULL REFERENCES parties(id),   -- the smaller id of the pair
    party_b       TEXT NOT NULL REFERENCES parties(id),
    decision      TEXT NOT NULL,      -- confirmed, rejected
    decided_by    TEXT REFERENCES users(id),
    decided_at    BIGINT NOT NULL,
    PRIMARY KEY (hotline_id, party_a, party_b)
);

CREATE INDEX parties_changed ON parties (hotline_id, updated_at);
