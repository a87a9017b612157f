package ai.coopt.platform.db;

/**
 * The audit of one accepted shard upload.
 *
 * @param sample the sample ids asked for, in the order asked (rows of the shard and of S, mixed)
 * @param reason why it failed, null otherwise
 * @param deadline epoch millis after which a pending audit fails
 * @param answeredAt when it passed or failed, null while pending
 */
public record AuditRecord(long id, long uploadId, String participantId, int shard, long[] sample, AuditState state,
                          String reason, long createdAt, long deadline, Long answeredAt) {
}
