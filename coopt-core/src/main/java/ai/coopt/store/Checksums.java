package ai.coopt.store;

import ai.coopt.UserException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Content checksums of files. */
public final class Checksums {
    private static final int BUFFER = 1 << 20;

    private Checksums() {}

    /**
     * The SHA-256 of a file's bytes as 64 lower-case hex digits, read in a streaming fashion.
     *
     * @throws UserException when the file cannot be read
     */
    public static String sha256(Path file) {
        MessageDigest digest = newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[BUFFER];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }
}
