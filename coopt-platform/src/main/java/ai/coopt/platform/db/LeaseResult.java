package ai.coopt.platform.db;

/** The answer to a lease request. */
public sealed interface LeaseResult {

    /**
     * The participant holds this shard's lease until {@code expires}.
     *
     * @param renewed true when it already held it (the lease was extended, same lease id)
     */
    record Leased(int shard, String leaseId, long expires, boolean renewed) implements LeaseResult {
    }

    /** Every unaccepted shard is leased to someone else; ask again at {@code until} (the earliest expiry). */
    record Wait(long until) implements LeaseResult {
    }

    /** Every shard of the round is accepted. */
    record Done() implements LeaseResult {
    }
}
