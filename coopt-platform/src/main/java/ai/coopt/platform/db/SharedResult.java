package ai.coopt.platform.db;

/** The answer to an upload of a participant's outputs on the shared subset. */
public enum SharedResult {
    /** stored now */
    ACCEPTED,
    /** the same content (sha256) was already accepted from this participant: nothing changed */
    ALREADY,
    /** different content was already accepted from this participant: nothing changed */
    CONFLICT
}
