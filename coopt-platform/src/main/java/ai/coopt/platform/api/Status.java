package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

import java.util.List;
import java.util.Map;

/**
 * Everything the platform shows about its round, with no secret in it (no key, no invite, no lease token): the body
 * of {@code GET /v1/status}, what {@code coopt platform status} prints, and what the dashboard renders. Times are
 * epoch milliseconds; a field that does not apply yet is null. The descriptions on the components are the OpenAPI
 * document's ({@code server.OpenApi}); a component that may be null says {@code @JsonSetter(nulls = Nulls.SET)}.
 */
public record Status(String version,
                     @JsonPropertyDescription("The platform's clock when the status was taken") long now,
                     @JsonPropertyDescription("The current round (the one leases, uploads, audits and fusion act on)")
                     @JsonSetter(nulls = Nulls.SET) Round round,
                     @JsonPropertyDescription("Every round, oldest first") List<RoundRow> rounds,
                     List<ParticipantView> participants,
                     @JsonPropertyDescription("How many shards are open, leased, accepted")
                     Map<String, Integer> shardsByState,
                     List<ShardView> shards,
                     @JsonPropertyDescription("The current round's newest uploads, oldest first (at most 200, whatever "
                             + "the table holds)") List<UploadView> uploads,
                     @JsonPropertyDescription("How many of the current round's uploads were accepted and refused, in "
                             + "all") Map<String, Long> uploadTotals,
                     @JsonPropertyDescription("Every audit of an accepted shard upload, oldest first")
                     List<AuditView> audits,
                     @JsonPropertyDescription("Participants that sent their outputs on S, most uniform first, by the "
                             + "platform's own computation from the outputs (the reference is the most uniform one the "
                             + "screening trusts)") List<Rank> uniformity,
                     @JsonSetter(nulls = Nulls.SET) Fusion fusion,
                     @JsonPropertyDescription("The latest events, newest last (at most 300)") List<Event> events,
                     @JsonPropertyDescription("Who may read what (dashboard, dataset, round): \"public\" or "
                             + "\"participants and operator\" (serve --public-dashboard, --public-dataset); set by the "
                             + "server on GET /v1/status, null where the status is taken inside the platform")
                     Map<String, String> access) {

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

    /** The current round's number, data and plan (every round has the same data and plan). */
    public record Round(@JsonPropertyDescription("The round's number, 1 for the first") int id,
                        @JsonPropertyDescription("The data spec") String data, String split,
                        @JsonPropertyDescription("Images in the round") int count, String fingerprint, int shards,
                        int sharedCount, long seed, int leaseSeconds,
                        @JsonPropertyDescription("The alignment method") String align,
                        @JsonPropertyDescription("When this round was opened") long createdAt) {}

    /** One round in the table of rounds. */
    public record RoundRow(int id, long createdAt, int shards,
                           @JsonPropertyDescription("Shards of this round accepted (of shards)") int accepted,
                           @JsonPropertyDescription("waiting, running, done or failed; a round is finished when done")
                           String fusion,
                           @JsonPropertyDescription("When its fusion state last changed") long fusionAt,
                           @JsonPropertyDescription("Where its fused dataset's files are listed, once done (null "
                                   + "before)") @JsonSetter(nulls = Nulls.SET) String dataset) {}

    /** A participant as the status shows it. */
    public record ParticipantView(String id, String name, long enrolledAt,
                                  @JsonPropertyDescription("The prior spec it reported with its outputs on S (null "
                                          + "before)") @JsonSetter(nulls = Nulls.SET) String prior,
                                  @JsonPropertyDescription("Shards of this participant accepted so far")
                                  int shardsAccepted,
                                  @JsonPropertyDescription("Why it is quarantined (its rows are not fused, its shards "
                                          + "went back to the pool), or null") @JsonSetter(nulls = Nulls.SET)
                                  String quarantined,
                                  Long quarantinedAt) {}

    /** An audit of an accepted shard upload. */
    public record AuditView(long id, String participant, int shard,
                            @JsonPropertyDescription("The accepted upload it audits") long upload,
                            @JsonPropertyDescription("How many rows were asked for again") int rows,
                            @JsonPropertyDescription("pending, passed or failed") String state,
                            @JsonPropertyDescription("Why it failed, or null") @JsonSetter(nulls = Nulls.SET)
                            String reason,
                            long createdAt, long deadline, Long answeredAt) {}

    /** A shard of the current round. */
    public record ShardView(int shard, int count, String sha256,
                            @JsonPropertyDescription("open, leased or accepted; the holder and expiry only while "
                                    + "leased") String state,
                            @JsonPropertyDescription("Participant id, while leased") @JsonSetter(nulls = Nulls.SET)
                            String leaseHolder,
                            Long leaseExpires,
                            @JsonPropertyDescription("Participant id, once accepted") @JsonSetter(nulls = Nulls.SET)
                            String acceptedFrom) {}

    /** An upload, accepted or refused. */
    public record UploadView(long id, String participant,
                             @JsonPropertyDescription("null for the outputs on the shared subset") Integer shard,
                             @JsonPropertyDescription("accepted or refused") String status,
                             @JsonPropertyDescription("Why it was refused (null when accepted)")
                             @JsonSetter(nulls = Nulls.SET) String reason,
                             long bytes, Integer rows, Integer dim, @JsonSetter(nulls = Nulls.SET) String sha256,
                             long at) {}

    /** A participant's place in the uniformity ranking. */
    public record Rank(int rank, String participant, String prior, double uniformity,
                       @JsonPropertyDescription("Whether this participant's space is the one the others are aligned to")
                       boolean reference,
                       @JsonPropertyDescription("On the reference's row, whether at least three independent priors "
                               + "(participants with the same outputs on S count once) vouch for it; false on every "
                               + "other row") boolean referenceVerified,
                       @JsonPropertyDescription("The first participant whose outputs on S are the same as this one's "
                               + "(one vote with it), or null") @JsonSetter(nulls = Nulls.SET) String samePriorAs) {}

    /** The current round's fusion. */
    public record Fusion(@JsonPropertyDescription("waiting, running, done or failed") String state,
                         @JsonPropertyDescription("Whether `coopt platform fuse` started it before every shard was "
                                 + "accepted") boolean forced,
                         Long startedAt, Long finishedAt, Integer count, Integer dim,
                         @JsonPropertyDescription("Participant id to the relative residual of its alignment on S "
                                 + "(after fusion)") @JsonSetter(nulls = Nulls.SET) Map<String, Double> residuals,
                         @JsonPropertyDescription("Where the fused dataset's files are listed, once done")
                         @JsonSetter(nulls = Nulls.SET) String download,
                         @JsonSetter(nulls = Nulls.SET) String error) {}

    /** A lease, an upload, a fusion step: the timeline. */
    public record Event(long at, String kind, @JsonSetter(nulls = Nulls.SET) String participant, Integer shard,
                        @JsonSetter(nulls = Nulls.SET) String detail) {}
}
