package ai.coopt.platform.db;

import ai.coopt.UserException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where a PostgreSQL password comes from, so that it need not be on a command line (which is recorded, with secrets
 * masked, and visible to every user of the machine in {@code ps}): the URL's {@code password=} parameter, else the
 * first line of {@code --db-password-file}, else {@value #ENV}, else PostgreSQL's own {@value #PG_ENV}; with none of
 * them the driver reads {@code ~/.pgpass} (or the file {@code PGPASSFILE} names), as {@code psql} does.
 */
public final class DatabasePassword {
    /** This project's environment variable for the database password. */
    public static final String ENV = "COOPT_DB_PASSWORD";
    /** PostgreSQL's standard one, as libpq reads it. */
    public static final String PG_ENV = "PGPASSWORD";

    private DatabasePassword() {}

    /** {@code url} with its password found as the class says; a SQLite URL takes none (a password file for it is refused). */
    public static DatabaseUrl resolve(DatabaseUrl url, Path file, Map<String, String> env) {
        if (url.vendor() == DatabaseUrl.Vendor.SQLITE) {
            if (file != null) {
                throw new UserException("--db-password-file: " + url + " is a SQLite database, which takes no password");
            }
            return url;
        }
        if (file != null) {
            if (url.password() != null) {
                throw new UserException("--db-password-file and a password in the --db URL: give the password once");
            }
            return url.withPassword(read(file));
        }
        if (url.password() != null) {
            return url;
        }
        for (String name : List.of(ENV, PG_ENV)) {
            String value = env.get(name);
            if (value != null && !value.isEmpty()) {
                return url.withPassword(value);
            }
        }
        return url;
    }

    private static String read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserException("--db-password-file " + file + ": cannot read: " + e.getMessage());
        }
        if (lines.isEmpty() || lines.get(0).isEmpty()) {
            throw new UserException("--db-password-file " + file + ": empty; the first line must be the password");
        }
        return lines.get(0);
    }
}
