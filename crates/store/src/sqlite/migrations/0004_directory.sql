-- The referral directory (HSDS records, bodies encrypted) and referrals with their consent and history.

CREATE TABLE directory_records (
    rid         TEXT PRIMARY KEY,  -- hotline_id/table/id: binds each body's encryption to its place
    hotline_id  TEXT NOT NULL REFERENCES hotlines(id),
    tbl         TEXT NOT NULL,
    id          TEXT NOT NULL,
    body        BLOB NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (hotline_id, tbl, id)
);

CREATE TABLE directory_versions (
    hotline_id  TEXT PRIMARY KEY REFERENCES hotlines(id),
    version     BIGINT NOT NULL
);

ALTER TABLE partner_orgs ADD COLUMN directory_organization_id TEXT;

CREATE TABLE referrals (
    id                  TEXT PRIMARY KEY,
    hotline_id          TEXT NOT NULL REFERENCES hotlines(id),
    case_id             TEXT NOT NULL REFERENCES cases(id),
    kind                TEXT NOT NULL,
    status              TEXT NOT NULL,
    service_id          TEXT,
    location_id         TEXT,
    organization_id     TEXT,
    target_name         TEXT NOT NULL,
    partner_org_id      TEXT REFERENCES partner_orgs(id),
    basis               TEXT NOT NULL,
    consent_by          BLOB,
    consent_method      TEXT,
    consent_at          BIGINT,
    shares              TEXT NOT NULL,
    shared              BLOB NOT NULL,
    exception_reason    BLOB,
    confirmed_by        TEXT REFERENCES users(id),
    confirmed_at        BIGINT,
    created_by          TEXT REFERENCES users(id),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX referrals_case ON referrals (hotline_id, case_id);
CREATE INDEX referrals_partner ON referrals (hotline_id, partner_org_id, status);
CREATE INDEX referrals_status ON referrals (hotline_id, status);

CREATE TABLE referral_events (
    id           TEXT PRIMARY KEY,
    referral_id  TEXT NOT NULL REFERENCES referrals(id),
    at           BIGINT NOT NULL,
    actor_id     TEXT REFERENCES users(id),
    status       TEXT NOT NULL,
    note         BLOB
);
CREATE INDEX referral_events_referral ON referral_events (referral_id, at);
