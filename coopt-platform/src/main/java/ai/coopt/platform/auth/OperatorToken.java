package ai.coopt.platform.auth;

import ai.coopt.UserException;
import ai.coopt.platform.PrivateFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The platform operator's bearer token: 256 random bits made once by {@code serve} in the platform directory
 * ({@code operator.token}, 0600) and reused on resume. Only its sha256 is kept in memory by the server; it is never
 * logged or recorded anywhere else.
 */
public final class OperatorToken {
    /** The file in the platform directory. */
    public static final String FILE = "operator.token";
    private static final SecureRandom RANDOM = new SecureRandom();

    private OperatorToken() {}

    /** The token in {@code dir}'s {@value #FILE}, made (0600) when there is none. */
    public static String loadOrCreate(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) {
            byte[] bits = new byte[32];
            RANDOM.nextBytes(bits);
            String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
            Path temp = dir.resolve(FILE + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            try {
                Files.createDirectories(dir);
                try {
                    // 0600 from the start: the token is never readable by others, not even for a moment
                    Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                } catch (UnsupportedOperationException e) {
                    Files.createFile(temp);
                }
                Files.writeString(temp, token + "\n", StandardCharsets.US_ASCII, StandardOpenOption.WRITE);
                // a link appears whole or not at all, and never replaces a token another serve process made first
                Files.createLink(file, temp);
            } catch (FileAlreadyExistsException e) {
                // another serve process of the same directory made it first: use that one
            } catch (IOException e) {
                throw new UserException(file + ": cannot write the operator token: " + e.getMessage());
            } finally {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a stray temporary file, 0600
                }
            }
            PrivateFiles.restrict(file);
        }
        return read(file);
    }

    /** The token in {@code file} (its first line); one line when it is missing or is not a token. */
    public static String read(Path file) {
        String token;
        try {
            token = Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new UserException(file + ": cannot read the operator token"
                    + (Files.exists(file) ? " (" + e.getClass().getSimpleName() + ")" : ": no such file"));
        }
        if (!token.matches("[A-Za-z0-9_-]{32,128}")) {
            throw new UserException(file + ": not an operator token (expected the one line serve wrote to "
                    + FILE + ")");
        }
        return token;
    }

    /** The sha256 of a token, what the server keeps. */
    public static byte[] hash(String token) {
        return Sha256.digest(token.getBytes(StandardCharsets.UTF_8));
    }

    /** Whether {@code offered} is the token whose hash is {@code expected}, in time independent of where they differ. */
    public static boolean matches(byte[] expected, String offered) {
        return offered != null && offered.length() <= 256 && MessageDigest.isEqual(expected, hash(offered));
    }
}
