-- CoOpt platform schema, version 5: one participant, several workers. An organisation runs `participant run` with one
-- key on several machines; each process names itself (a random worker name per process) and holds a lease of its own,
-- up to `serve --max-leases-per-participant`. A lease is now unique per (holder, worker), not per holder.
ALTER TABLE shards ADD COLUMN lease_worker TEXT;
-- leases held when this version arrives belong to their participant's one unnamed worker
UPDATE shards SET lease_worker = '' WHERE lease_holder IS NOT NULL;
DROP INDEX shards_one_lease_per_holder;
CREATE UNIQUE INDEX shards_one_lease_per_worker ON shards (round_id, lease_holder, lease_worker) WHERE lease_holder IS NOT NULL;
