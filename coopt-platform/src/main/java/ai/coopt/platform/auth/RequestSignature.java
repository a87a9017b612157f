package ai.coopt.platform.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Signed requests. A participant signs, with its Ed25519 key, the canonical string
 * <pre>METHOD \n path-with-query \n timestamp-millis \n lowercase-hex-sha256(body)</pre>
 * and sends four headers: {@value #PARTICIPANT}, {@value #TIMESTAMP}, {@value #CONTENT_SHA256} and
 * {@value #SIGNATURE} (base64). The body's hash travels in a header, so the platform checks the signature
 * before it reads a large body, then checks the body's actual hash against the header
 * ({@link #checkBody}) once it has read it.
 *
 * <p>The path is the request target exactly as sent: the raw (percent-encoded) path, then {@code ?} and
 * the raw query when there is one.
 *
 * <p>Server side: {@link #parse} the headers (every refusal is a reason string, never an exception), look
 * the participant's stored key up, {@link #verify}, then record {@link SignedHeaders#replayKey} with the
 * store's {@code recordSignature} to refuse replays, using the same window.
 */
public final class RequestSignature {

    public static final String PARTICIPANT = "X-CoOpt-Participant";
    public static final String TIMESTAMP = "X-CoOpt-Timestamp";
    public static final String CONTENT_SHA256 = "X-CoOpt-Content-SHA256";
    public static final String SIGNATURE = "X-CoOpt-Signature";
    /** How far a request's timestamp may be from the platform's clock, either way, by default. */
    public static final long DEFAULT_WINDOW_MILLIS = 60_000;

    private static final Pattern PARTICIPANT_ID = Pattern.compile("p-[0-9a-f]{16}");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,18}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern METHOD = Pattern.compile("[A-Z]{1,16}");
    /** A request target: starts with '/', printable ASCII without spaces. */
    private static final Pattern TARGET = Pattern.compile("/[\\x21-\\x7e]{0,8191}");
    private static final int SIGNATURE_BYTES = 64;
    private static final int MAX_SIGNATURE_HEADER = 128;
    private static final int MAX_HEADER = 256;

    private final long windowMillis;

    /** A verifier with the default ±60 s window. */
    public RequestSignature() {
        this(DEFAULT_WINDOW_MILLIS);
    }

    /** A verifier that accepts timestamps within ±{@code windowMillis} of its clock. */
    public RequestSignature(long windowMillis) {
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("the timestamp window must be positive");
        }
        this.windowMillis = windowMillis;
    }

    /** The timestamp window, to pass on to the store's replay check. */
    public long windowMillis() {
        return windowMillis;
    }

    /** The string that is signed. */
    public static String canonical(String method, String pathWithQuery, long timestamp, String bodySha256) {
        return method + "\n" + pathWithQuery + "\n" + timestamp + "\n" + bodySha256;
    }

    /**
     * Client side: the four headers for a request. {@code bodySha256} is the lowercase hex sha256 of the body
     * ({@link Sha256#EMPTY} without one).
     */
    public static Map<String, String> sign(String participantId, PrivateKey key, String method, String pathWithQuery,
                                           long timestamp, String bodySha256) {
        if (!METHOD.matcher(method).matches() || !TARGET.matcher(pathWithQuery).matches()
                || !SHA256.matcher(bodySha256).matches() || timestamp < 0) {
            throw new IllegalArgumentException("cannot sign " + method + " " + pathWithQuery + ": malformed method, path, body hash or time");
        }
        byte[] signature;
        try {
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(key);
            signer.update(canonical(method, pathWithQuery, timestamp, bodySha256).getBytes(StandardCharsets.UTF_8));
            signature = signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot sign with this key: " + e.getMessage(), e);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(PARTICIPANT, participantId);
        headers.put(TIMESTAMP, Long.toString(timestamp));
        headers.put(CONTENT_SHA256, bodySha256);
        headers.put(SIGNATURE, Base64.getEncoder().encodeToString(signature));
        return headers;
    }

    /** What {@link #parse} found: the signed headers, or a refusal. */
    public sealed interface Parsed permits SignedHeaders, Refused {
    }

    /** A refusal with a one-line reason for the 401 response. */
    public record Refused(String reason) implements Parsed {
    }

    /**
     * Well-formed signature headers (not yet verified).
     *
     * @param participantId claimed participant
     * @param timestamp     claimed request time, epoch millis
     * @param contentSha256 claimed body hash
     * @param signature     64 signature bytes
     */
    public record SignedHeaders(String participantId, long timestamp, String contentSha256, byte[] signature) implements Parsed {

        /**
         * What identifies this request for replay protection: the sha256 of the participant id and the
         * canonical string (so it does not depend on the signature's encoding).
         */
        public String replayKey(String method, String pathWithQuery) {
            return Sha256.hex(participantId + "\n" + canonical(method, pathWithQuery, timestamp, contentSha256));
        }
    }

    /** Reads the four headers through {@code header} (name to first value, or null); any defect is a refusal. */
    public static Parsed parse(Function<String, String> header) {
        String participant = header.apply(PARTICIPANT);
        String timestamp = header.apply(TIMESTAMP);
        String content = header.apply(CONTENT_SHA256);
        String signature = header.apply(SIGNATURE);
        for (String[] h : new String[][]{{PARTICIPANT, participant}, {TIMESTAMP, timestamp}, {CONTENT_SHA256, content}, {SIGNATURE, signature}}) {
            if (h[1] == null || h[1].isEmpty()) {
                return new Refused("unsigned request: header " + h[0] + " is missing");
            }
            if (h[1].length() > MAX_HEADER) {
                return new Refused("header " + h[0] + " is too long");
            }
        }
        if (!PARTICIPANT_ID.matcher(participant).matches()) {
            return new Refused("header " + PARTICIPANT + " is not a participant id (p- and 16 hex digits)");
        }
        if (!DIGITS.matcher(timestamp).matches()) {
            return new Refused("header " + TIMESTAMP + " is not epoch milliseconds");
        }
        if (!SHA256.matcher(content).matches()) {
            return new Refused("header " + CONTENT_SHA256 + " is not a lowercase hex sha256");
        }
        if (signature.length() > MAX_SIGNATURE_HEADER) {
            return new Refused("header " + SIGNATURE + " is too long");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(signature);
        } catch (IllegalArgumentException e) {
            return new Refused("header " + SIGNATURE + " is not base64");
        }
        if (bytes.length != SIGNATURE_BYTES) {
            return new Refused("header " + SIGNATURE + " is not an Ed25519 signature (" + SIGNATURE_BYTES + " bytes)");
        }
        return new SignedHeaders(participant, Long.parseLong(timestamp), content, bytes);
    }

    /**
     * Checks a parsed request against the participant's stored raw public key: the timestamp within the
     * window of {@code now}, and the signature over method, path, timestamp and declared body hash. Returns
     * the refusal's reason, or empty when the request is authentic.
     */
    public Optional<String> verify(byte[] rawPublicKey, SignedHeaders headers, String method, String pathWithQuery, long now) {
        if (method == null || !METHOD.matcher(method).matches()) {
            return Optional.of("malformed request method");
        }
        if (pathWithQuery == null || !TARGET.matcher(pathWithQuery).matches()) {
            return Optional.of("malformed request path");
        }
        Optional<String> stale = checkWindow(headers, now);
        if (stale.isPresent()) {
            return stale;
        }
        if (rawPublicKey == null || rawPublicKey.length != Ed25519Keys.RAW_LENGTH) {
            return Optional.of("the participant's stored public key is not " + Ed25519Keys.RAW_LENGTH + " bytes");
        }
        try {
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(Ed25519Keys.publicKey(rawPublicKey));
            verifier.update(canonical(method, pathWithQuery, headers.timestamp(), headers.contentSha256()).getBytes(StandardCharsets.UTF_8));
            if (!verifier.verify(headers.signature())) {
                return Optional.of("bad signature");
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return Optional.of("bad signature");
        }
        return Optional.empty();
    }

    /**
     * The timestamp alone: a refusal when it is outside the window of {@code now}. Checked before any body is read,
     * also where the key is not known yet (enrolment).
     */
    public Optional<String> checkWindow(SignedHeaders headers, long now) {
        long skew = headers.timestamp() - now;
        if (Math.abs(skew) > windowMillis) {
            return Optional.of("request timestamp is " + Math.abs(skew) / 1000 + " s " + (skew < 0 ? "old" : "ahead of the platform's clock")
                    + ", outside the ±" + windowMillis / 1000 + " s window (check this machine's clock)");
        }
        return Optional.empty();
    }

    /** After the body is read: a refusal when its sha256 is not the one the signed header declared. */
    public static Optional<String> checkBody(SignedHeaders headers, String actualBodySha256) {
        if (actualBodySha256 == null || !MessageDigest.isEqual(headers.contentSha256().getBytes(StandardCharsets.US_ASCII),
                actualBodySha256.getBytes(StandardCharsets.US_ASCII))) {
            return Optional.of("the body's sha256 is not the one in " + CONTENT_SHA256);
        }
        return Optional.empty();
    }
}
