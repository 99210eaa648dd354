-- Statistics rollups: counts kept current in the same transaction as every write to contacts, cases,
-- parties, determinations and referrals (see `crate::rollups` for what each record contributes), so no
-- dashboard rescans history. '' means "not applicable" so that every key column can be in the primary key.
-- A row whose count reaches zero is deleted. `lantern stats rebuild` recomputes a hotline's rows.

CREATE TABLE rollup_cells (
    hotline_id       TEXT NOT NULL REFERENCES hotlines(id),
    metric           TEXT NOT NULL,
    month            TEXT NOT NULL,  -- YYYY-MM (UTC)
    state            TEXT NOT NULL,
    form             TEXT NOT NULL,
    typology         TEXT NOT NULL,
    channel          TEXT NOT NULL,
    signaler_type    TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    referral_status  TEXT NOT NULL,
    case_status      TEXT NOT NULL,
    n                BIGINT NOT NULL,
    PRIMARY KEY (hotline_id, metric, month, state, form, typology, channel, signaler_type, outcome,
                 referral_status, case_status)
);
