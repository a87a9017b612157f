package ai.coopt.platform.db;

/**
 * One entry of the platform's timeline.
 *
 * @param id            increasing with time of recording
 * @param round         round id, null for events outside a round (enrolment)
 * @param at            epoch millis
 * @param kind          what happened
 * @param participantId who, if anyone
 * @param shard         which shard, if any
 * @param uploadId      which upload, if any
 * @param detail        a line of text, or null
 */
public record Event(long id, Integer round, long at, EventKind kind, String participantId, Integer shard,
                    Long uploadId, String detail) {
}
