package ai.coopt.platform.db;

/** The answer to a lease renewal. */
public sealed interface Renewal {

    /** The lease now expires at {@code expires}. */
    record Renewed(long expires) implements Renewal {
    }

    /** The lease was not renewed; {@code reason} is one line for the participant. */
    record Refused(String reason) implements Renewal {
    }
}
