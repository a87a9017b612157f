package ai.coopt.platform.db;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.regex.Pattern;

/** What the repositories of {@link PlatformStore} check and convert alike: checksums, enum columns, reasons, ids. */
final class StoreValues {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_REASON_LENGTH = 2000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private StoreValues() {
    }

    static void checkSha256(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a lowercase hex sha256: " + sha256);
        }
    }

    /** An enum as its column stores it. */
    static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /** An enum column's value. */
    static <E extends Enum<E>> E parse(Class<E> type, String sql) {
        return Enum.valueOf(type, sql.toUpperCase(Locale.ROOT));
    }

    /** A reason as it is stored: one line, at most 2000 characters. */
    static String oneLine(String reason) {
        String line = reason.replaceAll("[\\r\\n]+", " ");
        return line.length() > MAX_REASON_LENGTH ? line.substring(0, MAX_REASON_LENGTH) : line;
    }

    /** {@code bytes} random bytes, base64url without padding (tokens, lease ids). */
    static String randomId(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
