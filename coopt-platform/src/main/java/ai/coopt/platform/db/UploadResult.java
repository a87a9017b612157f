package ai.coopt.platform.db;

/** The answer to a shard upload. */
public sealed interface UploadResult {

    /** Accepted now: the shard is accepted from this upload. */
    record Accepted(long uploadId) implements UploadResult {
    }

    /** This participant's upload with the same sha256 was already accepted for the shard (an idempotent retry). */
    record Already(long uploadId) implements UploadResult {
    }

    /** Not accepted; the refusal is in the audit trail ({@link UploadRepository#all}) with this reason. */
    record Refused(String reason) implements UploadResult {
    }
}
