package ai.coopt.collab;

/** What a participant gets when it asks the platform for work: a shard, a time to wait, or nothing left to do. */
public sealed interface Lease {
    /**
     * A shard held by one participant until {@code expiresAtMillis} unless renewed.
     *
     * @param ids the shard's sample ids (indices into the platform's split), ascending
     * @param token unguessable; names this lease in renewals and the upload
     */
    record Granted(int shard, long[] ids, String token, long expiresAtMillis) implements Lease {}

    /** Every shard not yet accepted is leased to someone else; ask again after {@code millis}. */
    record Wait(long millis) implements Lease {}

    /** Every shard of the round is accepted. */
    record Done() implements Lease {}
}
