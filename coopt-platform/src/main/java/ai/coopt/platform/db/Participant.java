package ai.coopt.platform.db;

/**
 * An enrolled participant.
 *
 * @param id               {@code p-} + the first 16 hex digits of sha256(raw public key)
 * @param name             unique, from its invite
 * @param publicKey        base64 of the raw 32-byte Ed25519 public key
 * @param enrolledAt       epoch millis
 * @param quarantinedAt    when it was quarantined (its rows are not fused), or null
 * @param quarantineReason why, or null
 */
public record Participant(String id, String name, String publicKey, long enrolledAt, Long quarantinedAt,
                          String quarantineReason) {
    /** A participant in good standing. */
    public Participant(String id, String name, String publicKey, long enrolledAt) {
        this(id, name, publicKey, enrolledAt, null, null);
    }

    public boolean quarantined() {
        return quarantinedAt != null;
    }
}
