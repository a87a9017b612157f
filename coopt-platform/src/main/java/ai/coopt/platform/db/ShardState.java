package ai.coopt.platform.db;

/** Where a shard is in its round: nobody has it, a participant holds a lease on it, or its upload is accepted. */
public enum ShardState {
    OPEN, LEASED, ACCEPTED
}
