package ai.coopt.platform.db;

/**
 * A database operation failed for a reason that is not the caller's input (lost connection, disk full,
 * another process holding SQLite's write lock past the busy timeout). The transaction was rolled back.
 */
public class DatabaseException extends RuntimeException {
    public DatabaseException(String message, Throwable cause) {
        super(message, cause);
    }
}
