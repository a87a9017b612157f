package ai.coopt;

/**
 * An error caused by the user's input (bad path, corrupt file, impossible option).
 * The command line prints its message as one line on stderr and exits with code 2.
 * Messages must be self-contained and must not need a stack trace to be understood.
 */
public class UserException extends RuntimeException {
    public UserException(String message) {
        super(message);
    }

    public UserException(String message, Throwable cause) {
        super(message, cause);
    }
}
