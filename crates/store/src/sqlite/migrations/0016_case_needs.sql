-- The gap analysis's counts join the rollups: a `case_needs` cell counts the cases of a state (and county),
-- form, service type needed and population (see `crate::rollups`), kept in the same transaction as every
-- write like the others, so no gap question rescans the cases. The cells gain three key columns; the table
-- is made anew with them in its primary key and left empty, so that opening the store rebuilds every
-- hotline's cells from its records (as for a database from before 0005), after the referrals' service
-- types below are filled in.
DROP TABLE rollup_cells;
CREATE TABLE rollup_cells (
    hotline_id       TEXT NOT NULL REFERENCES hotlines(id),
    metric           TEXT NOT NULL,
    month            TEXT NOT NULL,  -- YYYY-MM (UTC); '' for case_needs
    state            TEXT NOT NULL,
    form             TEXT NOT NULL,
    typology         TEXT NOT NULL,
    channel          TEXT NOT NULL,
    signaler_type    TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    referral_status  TEXT NOT NULL,
    case_status      TEXT NOT NULL,
    county           TEXT NOT NULL,  -- case_needs: '' is the whole state
    service          TEXT NOT NULL,
    population       TEXT NOT NULL,
    n                BIGINT NOT NULL,
    version          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hotline_id, metric, month, state, form, typology, channel, signaler_type, outcome,
                 referral_status, case_status, county, service, population)
);
CREATE INDEX rollup_cells_by_version ON rollup_cells (hotline_id, version);

-- The service types (JSON list of codes) of the directory service a referral is made to, recorded when it
-- is made: what the case needed. NULL for referrals made before this migration until the store fills them
-- in from the directory when it opens.
ALTER TABLE referrals ADD COLUMN service_types TEXT;
