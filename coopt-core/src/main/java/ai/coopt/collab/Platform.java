package ai.coopt.collab;

import ai.coopt.data.ImageSet;

import java.util.List;

/**
 * The open data platform of CoOpt: it splits the data into shards and a shared subset S (phase 1), leases shards to
 * participants, and collects and checks what they upload (phase 4); fusion (phases 3 and 5) runs over what it
 * accepted, and may audit what it accepted. The in-process platform and the networked service's client implement the same interface, and one
 * {@link ParticipantLoop} drives a participant against either.
 */
public interface Platform {
    /** The round's shards and S. */
    RoundInfo round();

    /** The images of S, in the order of {@code round().sharedIds()}. */
    ImageSet shared();

    /** Whether this participant's outputs on S are already accepted. */
    boolean hasShared(String participant);

    /** Phase 4 for S: a participant's prior on the shared subset, once per participant; a repeat is a no-op. */
    void submitShared(SharedOutputs outputs);

    /** The next shard for this participant: one it already holds, an open or expired one, a wait, or done. */
    Lease lease(String participant);

    /** Extends a lease this participant holds; returns it with its new expiry. */
    Lease.Granted renew(String participant, Lease.Granted lease);

    /** The images of a leased shard, in the order of its ids. */
    ImageSet shard(Lease.Granted lease);

    /** Phase 4 for a shard: checked (shape, ids, finite values), then accepted exactly once. */
    void upload(Lease.Granted lease, ShardOutputs outputs);

    /** The audits this participant has yet to answer, oldest first (a platform that audits nobody returns none). */
    List<Audit> audits(String participant);

    /** The images of an audit, in the order the answer must follow. */
    ImageSet auditImages(String participant, Audit audit);

    /** Answers an audit with the prior's outputs on its images ({@code audit.rows()} rows of {@code dim}). */
    void answerAudit(String participant, Audit audit, float[] outputs, int dim);
}
