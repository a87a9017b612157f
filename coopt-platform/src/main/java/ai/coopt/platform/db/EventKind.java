package ai.coopt.platform.db;

/** What an {@link Event} of the platform's timeline records. */
public enum EventKind {
    PARTICIPANT_ENROLLED,
    /** a shard leased to a participant for the first time */
    LEASE_TAKEN,
    /** a lease extended by its holder (also by asking for a lease again) */
    LEASE_RENEWED,
    /** a shard whose lease had expired leased to another participant (detail: the previous holder) */
    LEASE_RETAKEN,
    /** a lease held for the longest a lease may be without an upload ({@code serve --max-lease-hours}): the shard is open again */
    LEASE_CAPPED,
    UPLOAD_ACCEPTED,
    UPLOAD_REFUSED,
    SHARED_ACCEPTED,
    /** an accepted shard upload's audit was asked for (detail: how many rows) */
    AUDIT_REQUESTED,
    AUDIT_PASSED,
    /** detail: why */
    AUDIT_FAILED,
    /** detail: why; its accepted uploads were withdrawn and its shards are open again */
    PARTICIPANT_QUARANTINED,
    FUSION_STARTED,
    FUSION_FINISHED,
    FUSION_FAILED,
    /** a round opened over the previous round's data (coopt platform next-round); its round_id is the new round */
    ROUND_OPENED
}
