-- CoOpt platform schema, version 4: a lease is held at most `serve --max-lease-hours` without an upload.
-- The same per-vendor placeholders as V1__init.sql (SQLite | PostgreSQL):
--   int64    INTEGER | BIGINT (times)

-- when the current holder took the lease (renewals never extend it past taken + the cap); NULL when not leased, or
-- leased before this version (such a lease is not capped: it ends at its expiry or upload, as before)
ALTER TABLE shards ADD COLUMN lease_taken_at ${int64};
-- the last participant whose lease of this shard reached the cap: it is offered this shard last
ALTER TABLE shards ADD COLUMN capped_holder TEXT;
