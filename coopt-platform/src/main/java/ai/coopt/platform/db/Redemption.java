package ai.coopt.platform.db;

/** What {@link ParticipantRepository#redeemInvite} did: enrolled a participant, or refused and stored nothing. */
public sealed interface Redemption {

    /** The invite is used up and the participant enrolled. */
    record Enrolled(Participant participant) implements Redemption {
    }

    /** Nothing was stored. */
    record Refused(Reason reason) implements Redemption {
    }

    /** Why an invite was not redeemed. */
    enum Reason {
        UNKNOWN("unknown invite token"),
        ALREADY_USED("the invite token was already used"),
        EXPIRED("the invite token has expired"),
        MALFORMED_KEY("the public key is not base64 of 32 bytes (a raw Ed25519 public key)"),
        KEY_REGISTERED("this public key is already enrolled"),
        NAME_TAKEN("a participant with the invite's name is already enrolled");

        /** One line for the HTTP response. */
        public final String message;

        Reason(String message) {
            this.message = message;
        }
    }
}
