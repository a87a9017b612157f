package ai.coopt.platform.db;

/** Where an audit of an accepted shard upload stands. */
public enum AuditState {
    /** asked, not yet answered (fails at its deadline) */
    PENDING,
    /** answered with the rows the upload holds, and the shard agrees with the participant's outputs on S */
    PASSED,
    /** answered with other rows, not answered in time, or its participant was quarantined */
    FAILED
}
