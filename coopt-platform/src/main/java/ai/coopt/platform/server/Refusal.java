package ai.coopt.platform.server;

import java.util.Objects;

/**
 * A request the platform refuses, with the reason the caller is told and what kind of refusal it is. The services
 * say what went wrong in their own terms; {@link PlatformServer} alone maps a kind to an HTTP status.
 */
public final class Refusal extends Exception {
    /** What kind of refusal: the request, the caller or the state of the round. */
    public enum Kind {
        /** The request is malformed: a parameter, a header or a body that does not parse. */
        MALFORMED,
        /** The caller is not who it must be: unsigned, a bad signature or token, an unknown invite. */
        UNAUTHENTICATED,
        /** The caller is known but may not do this: a shard leased to another, a quarantined participant. */
        FORBIDDEN,
        /** No such shard, audit, round or file. */
        NOT_FOUND,
        /** The body arrived too slowly. */
        TOO_SLOW,
        /** The round's state does not allow it now: outputs on S missing, already accepted, an audit no longer pending. */
        CONFLICT,
        /** An upload without its length. */
        NO_LENGTH,
        /** The body is larger than allowed. */
        TOO_LARGE,
        /** A byte range outside the file. */
        OUT_OF_RANGE,
        /** Well formed, but its content is refused (wrong width, a failed audit). */
        UNACCEPTABLE,
        /** The platform cannot take it now; ask again. */
        BUSY
    }

    private final Kind kind;

    public Refusal(Kind kind, String reason) {
        super(reason);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public Kind kind() {
        return kind;
    }
}
