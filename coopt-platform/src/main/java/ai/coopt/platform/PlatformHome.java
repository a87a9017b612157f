package ai.coopt.platform;

import ai.coopt.UserException;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Json;
import ai.coopt.util.Secrets;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Map;

/**
 * A platform's directory as the commands find it: {@value #FILE} names the database the round lives in (without any
 * password), so {@code platform invite} and {@code platform fuse} reach the same state as {@code platform serve}.
 */
public final class PlatformHome {
    public static final String FILE = "platform.json";
    static final String FORMAT = "coopt-platform-home/1";

    private PlatformHome() {}

    /** What {@value #FILE} holds. */
    public record Home(String format, String db) {}

    public static void create(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UserException(dir + ": cannot create: " + e.getMessage());
        }
        PrivateFiles.restrict(dir);
    }

    public static void requireExisting(Path dir) {
        if (!Files.isRegularFile(dir.resolve(FILE))) {
            throw new UserException(dir + " is not a platform directory (no " + FILE + "; start one with coopt platform serve)");
        }
    }

    /** The database URL: the one given, else the one recorded in the directory, else SQLite in it. */
    public static String database(Path dir, String given) {
        if (given != null) {
            return given;
        }
        Path file = dir.resolve(FILE);
        if (Files.isRegularFile(file)) {
            return Json.read(file, Home.class, Map.of()).db();
        }
        return "sqlite:" + dir.resolve("platform.db").toAbsolutePath();
    }

    /** Records the database (its password, if the URL carries one, left out). */
    public static void recordDatabase(Path dir, String url) {
        AtomicFiles.writeJson(dir.resolve(FILE), new Home(FORMAT, redacted(url)));
        PrivateFiles.restrict(dir.resolve(FILE));
    }

    /**
     * {@code url} without a {@code password=} parameter (the recorded URL stays usable: the password then comes from
     * the environment, a password file or ~/.pgpass), and whatever else looks secret masked ({@link Secrets#redact}).
     */
    public static String redacted(String url) {
        return Secrets.redact(url.replaceAll("([?&])password=[^&]*&?", "$1").replaceAll("[?&]$", ""));
    }

    /** Opens the keystore once, so a wrong password or a bad file fails with one line before the server starts. */
    public static void checkKeystore(Path keystore, char[] password) {
        try (InputStream in = Files.newInputStream(keystore)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password);
            if (!ks.aliases().hasMoreElements()) {
                throw new UserException(keystore + ": the keystore holds no key");
            }
        } catch (IOException e) {
            throw new UserException(keystore + ": cannot open the keystore (wrong password or not PKCS#12): " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new UserException(keystore + ": not a usable PKCS#12 keystore: " + e.getMessage());
        }
    }
}
