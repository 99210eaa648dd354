-- A counter per hotline that every change to its rollup cells increments in the same transaction, so a
-- server holding a hotline's dashboard figures in memory knows with one primary-key read whether they are
-- still current (whichever server made the change).
CREATE TABLE rollup_versions (
    hotline_id TEXT PRIMARY KEY REFERENCES hotlines(id),
    version    BIGINT NOT NULL
);
