package ai.coopt.platform.api;

import java.util.List;
import java.util.Map;

/**
 * Everything the platform shows about its round, with no secret in it (no key, no invite, no lease token): the body
 * of {@code GET /v1/status}, what {@code coopt platform status} prints, and what the dashboard renders. Times are
 * epoch milliseconds; a field that does not apply yet is null.
 *
 * @param now the platform's clock when the status was taken
 * @param round the current round (the one leases, uploads, audits and fusion act on)
 * @param rounds every round, oldest first
 * @param shardsByState how many shards are open, leased, accepted
 * @param audits every audit of an accepted shard upload, oldest first
 * @param uniformity participants that sent their outputs on S, most uniform first, by the platform's own
 *                   computation from the outputs (the reference is the most uniform one the screening trusts)
 * @param uploads the current round's newest uploads, oldest first (at most 200, whatever the table holds)
 * @param uploadTotals how many of the current round's uploads were accepted and refused, in all
 * @param events the latest events, newest last (at most 300)
 * @param access who may read what (dashboard, dataset, round): set by the server on {@code GET /v1/status}, null where
 *               the status is taken inside the platform
 */
public record Status(String version, long now, Round round, List<RoundRow> rounds, List<ParticipantView> participants,
                     Map<String, Integer> shardsByState, List<ShardView> shards, List<UploadView> uploads,
                     Map<String, Long> uploadTotals, List<AuditView> audits, List<Rank> uniformity, Fusion fusion,
                     List<Event> events, Map<String, String> access) {

    /** A status as the platform takes it, before the server says who may read what. */
    public Status(String version, long now, Round round, List<RoundRow> rounds, List<ParticipantView> participants,
                  Map<String, Integer> shardsByState, List<ShardView> shards, List<UploadView> uploads,
                  Map<String, Long> uploadTotals, List<AuditView> audits, List<Rank> uniformity, Fusion fusion,
                  List<Event> events) {
        this(version, now, round, rounds, participants, shardsByState, shards, uploads, uploadTotals, audits, uniformity,
                fusion, events, null);
    }

    /** The same status, saying who may read what. */
    public Status withAccess(Map<String, String> access) {
        return new Status(version, now, round, rounds, participants, shardsByState, shards, uploads, uploadTotals, audits,
                uniformity, fusion, events, access);
    }

    /**
     * The current round's number, data and plan (every round has the same data and plan).
     *
     * @param id the round's number, 1 for the first
     * @param createdAt when this round was opened
     */
    public record Round(int id, String data, String split, int count, String fingerprint, int shards, int sharedCount,
                        long seed, int leaseSeconds, String align, long createdAt) {}

    /**
     * One round in the table of rounds.
     *
     * @param accepted shards of this round accepted (of {@code shards})
     * @param fusion waiting, running, done or failed; a round is finished when done
     * @param fusionAt when its fusion state last changed
     * @param dataset where its fused dataset's files are listed, once done (null before)
     */
    public record RoundRow(int id, long createdAt, int shards, int accepted, String fusion, long fusionAt,
                           String dataset) {}

    /**
     * @param prior the prior spec it reported with its outputs on S (null before)
     * @param shardsAccepted shards of this participant accepted so far
     * @param quarantined why it is quarantined (its rows are not fused, its shards went back to the pool), or null
     */
    public record ParticipantView(String id, String name, long enrolledAt, String prior, int shardsAccepted,
                                  String quarantined, Long quarantinedAt) {}

    /**
     * @param upload the accepted upload it audits
     * @param rows how many rows were asked for again
     * @param state pending, passed or failed
     * @param reason why it failed, or null
     */
    public record AuditView(long id, String participant, int shard, long upload, int rows, String state, String reason,
                            long createdAt, long deadline, Long answeredAt) {}

    /** @param state open, leased or accepted; the holder and expiry only while leased */
    public record ShardView(int shard, int count, String sha256, String state, String leaseHolder, Long leaseExpires,
                            String acceptedFrom) {}

    /**
     * @param shard null for the outputs on the shared subset
     * @param status accepted or refused
     * @param reason why it was refused (null when accepted)
     */
    public record UploadView(long id, String participant, Integer shard, String status, String reason, long bytes,
                             Integer rows, Integer dim, String sha256, long at) {}

    /**
     * @param reference whether this participant's space is the one the others are aligned to
     * @param referenceVerified on the reference's row, whether at least three independent priors (participants with
     *                          the same outputs on S count once) vouch for it; false on every other row
     * @param samePriorAs the first participant whose outputs on S are the same as this one's (one vote with it), or null
     */
    public record Rank(int rank, String participant, String prior, double uniformity, boolean reference,
                       boolean referenceVerified, String samePriorAs) {}

    /**
     * @param state waiting, running, done or failed
     * @param forced whether {@code coopt platform fuse} started it before every shard was accepted
     * @param residuals participant id → relative residual of its alignment on S (after fusion)
     * @param download where the fused dataset's files are listed, once done
     */
    public record Fusion(String state, boolean forced, Long startedAt, Long finishedAt, Integer count, Integer dim,
                         Map<String, Double> residuals, String download, String error) {}

    /** A lease, an upload, a fusion step: the timeline. */
    public record Event(long at, String kind, String participant, Integer shard, String detail) {}
}
