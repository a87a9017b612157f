package ai.coopt.platform.db;

/**
 * A participant's accepted outputs on the shared subset S.
 *
 * @param participantId who uploaded them
 * @param file          where they lie (the caller's choice)
 * @param sha256        the file's sha256
 * @param dim           output dimension
 * @param priorJson     the prior's description
 * @param uniformity    the uniformity of its outputs on S
 * @param acceptedAt    epoch millis
 */
public record SharedOutput(String participantId, String file, String sha256, int dim, String priorJson,
                           double uniformity, long acceptedAt) {
}
