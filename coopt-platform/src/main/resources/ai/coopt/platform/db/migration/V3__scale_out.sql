-- CoOpt platform schema, version 3: scale-out, several `serve` processes on one database and one directory.
-- The same per-vendor placeholders as V1__init.sql (SQLite | PostgreSQL):
--   int64    INTEGER | BIGINT (times)
-- (V2 is another change's; Flyway applies the versions in order, and a gap is allowed.)

-- A running fusion belongs to one serving process: `owner` is that process's instance id (random per start), and
-- `heartbeat_at` the last time it said it was still fusing (every few seconds while it fuses). Another process takes
-- a running fusion over only when its heartbeat is old (the owner is gone); see PlatformService.recover.
ALTER TABLE fusion ADD COLUMN owner TEXT;
ALTER TABLE fusion ADD COLUMN heartbeat_at ${int64};

-- a fusion left running by a coopt before this version has no owner: its last change stands in for a heartbeat
UPDATE fusion SET heartbeat_at = updated_at WHERE state = 'running';
