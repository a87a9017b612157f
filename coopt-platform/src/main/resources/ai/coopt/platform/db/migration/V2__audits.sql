-- CoOpt platform schema, version 2: poisoning audits and quarantine (same placeholders as V1).

-- a quarantined participant's rows are not fused, its shards go back to the pool, and it may lease no more
ALTER TABLE participants ADD COLUMN quarantined_at ${int64};
ALTER TABLE participants ADD COLUMN quarantine_reason TEXT;

-- one audit per accepted shard upload, created in the transaction that accepts it: the platform asks the
-- participant again for a random sample of that shard's rows and of S's (sample_json: the ids, in the order
-- asked), and fuses nothing of the upload until the audit passed
CREATE TABLE audits (
    id             ${id},
    round_id       INTEGER NOT NULL REFERENCES rounds (id),
    upload_id      ${int64} NOT NULL UNIQUE REFERENCES uploads (id),
    participant_id TEXT    NOT NULL REFERENCES participants (id),
    shard          INTEGER NOT NULL,
    sample_json    TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('pending', 'passed', 'failed')),
    reason         TEXT,
    created_at     ${int64} NOT NULL,
    deadline       ${int64} NOT NULL,
    answered_at    ${int64},
    CHECK ((state = 'failed') = (reason IS NOT NULL))
) ${strict};
CREATE INDEX audits_by_state ON audits (round_id, state);
