-- Which version last changed each rollup cell, so that a server holding a hotline's figures in memory reads
-- only the cells that moved since its version (an index range, usually a handful of rows) instead of all of
-- them. A cell whose count reaches zero is kept at zero from now on, so that its going away is seen too;
-- readers of the cells skip zeros. `rebuilt` is the version of the hotline's last rebuild: a rebuild deletes
-- cells, so figures older than it are read again whole.
ALTER TABLE rollup_cells ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX rollup_cells_by_version ON rollup_cells (hotline_id, version);
ALTER TABLE rollup_versions ADD COLUMN rebuilt BIGINT NOT NULL DEFAULT 0;
