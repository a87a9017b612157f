package ai.coopt.platform.auth;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Ed25519 public keys in the two forms the platform uses: the raw 32 bytes (base64 on the wire and in the
 * database) and Java's {@link PublicKey} (X.509 SubjectPublicKeyInfo), and the participant id derived from a
 * key. JDK only.
 */
public final class Ed25519Keys {

    /** Length of a raw Ed25519 public key. */
    public static final int RAW_LENGTH = 32;
    /** The fixed DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE, AlgorithmIdentifier 1.3.101.112, BIT STRING. */
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");
    /** Longest base64 text of a raw key we look at (44 characters with padding). */
    private static final int MAX_BASE64_LENGTH = 64;

    private Ed25519Keys() {
    }

    /** The raw 32-byte key inside an Ed25519 public key. */
    public static byte[] raw(PublicKey key) {
        byte[] encoded = key.getEncoded();
        if (!"Ed25519".equals(key.getAlgorithm()) && !"EdDSA".equals(key.getAlgorithm())
                || encoded == null || encoded.length != X509_PREFIX.length + RAW_LENGTH
                || !Arrays.equals(encoded, 0, X509_PREFIX.length, X509_PREFIX, 0, X509_PREFIX.length)) {
            throw new IllegalArgumentException("not an Ed25519 public key: " + key.getAlgorithm());
        }
        return Arrays.copyOfRange(encoded, X509_PREFIX.length, encoded.length);
    }

    /** A {@link PublicKey} from the raw 32 bytes; {@link IllegalArgumentException} for any other length. */
    public static PublicKey publicKey(byte[] raw) {
        if (raw == null || raw.length != RAW_LENGTH) {
            throw new IllegalArgumentException("an Ed25519 public key has " + RAW_LENGTH + " bytes");
        }
        byte[] encoded = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + RAW_LENGTH);
        System.arraycopy(raw, 0, encoded, X509_PREFIX.length, RAW_LENGTH);
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(encoded));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not a valid Ed25519 public key: " + e.getMessage(), e);
        }
    }

    /** Standard base64 (with padding) of a raw key. */
    public static String base64(byte[] raw) {
        return Base64.getEncoder().encodeToString(raw);
    }

    /** The raw key from base64 text as a participant sends it, or null when it is not base64 of 32 bytes. */
    public static byte[] decodeRawPublicKey(String base64) {
        if (base64 == null || base64.isEmpty() || base64.length() > MAX_BASE64_LENGTH) {
            return null;
        }
        try {
            byte[] raw = Base64.getDecoder().decode(base64);
            return raw.length == RAW_LENGTH ? raw : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** A participant's id: {@code p-} + the first 16 lowercase hex digits of sha256(raw public key). */
    public static String participantId(byte[] raw) {
        if (raw == null || raw.length != RAW_LENGTH) {
            throw new IllegalArgumentException("an Ed25519 public key has " + RAW_LENGTH + " bytes");
        }
        return "p-" + HexFormat.of().formatHex(Sha256.digest(raw), 0, 8);
    }

    /** The participant id of a key. */
    public static String participantId(PublicKey key) {
        return participantId(raw(key));
    }
}
