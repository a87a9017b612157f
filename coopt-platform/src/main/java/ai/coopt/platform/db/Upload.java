package ai.coopt.platform.db;

/**
 * An upload the platform received: an accepted shard upload, or a refused one (audit trail).
 *
 * @param id            upload id
 * @param round         round id
 * @param shard         the shard it was for, or null when unknown (refused before the shard was known)
 * @param participantId who sent it, or null when the request was not authenticated
 * @param accepted      true for accepted, false for refused
 * @param reason        why it was refused, null when accepted
 * @param file          where the accepted upload lies (relative to the platform's directory, the caller's choice)
 * @param sha256        its sha256 (null for most refusals)
 * @param bytes         its size in bytes (as far as it was read, for refusals)
 * @param rows          rows (accepted only)
 * @param dim           columns (accepted only)
 * @param receivedAt    epoch millis
 */
public record Upload(long id, int round, Integer shard, String participantId, boolean accepted, String reason,
                     String file, String sha256, long bytes, Integer rows, Integer dim, long receivedAt) {
}
