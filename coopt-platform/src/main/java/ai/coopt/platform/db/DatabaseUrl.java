package ai.coopt.platform.db;

import ai.coopt.UserException;
import ai.coopt.util.Secrets;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A database location as the command line takes it: {@code sqlite:FILE} or
 * {@code postgresql://HOST[:PORT]/DB?user=U[&password=P][&schema=S]}. Exactly one of
 * {@link #sqliteFile} (SQLite) and {@link #host} (PostgreSQL) is set.
 *
 * @param vendor     which database
 * @param sqliteFile the SQLite file (absolute), or null
 * @param host       PostgreSQL host name or address, or null
 * @param port       PostgreSQL port (5432 when the URL has none)
 * @param database   PostgreSQL database name
 * @param user       PostgreSQL user
 * @param password   PostgreSQL password, or null (trust, peer or .pgpass authentication)
 * @param schema     PostgreSQL schema for the platform's tables, or null for the user's default
 */
public record DatabaseUrl(Vendor vendor, Path sqliteFile, String host, int port, String database,
                          String user, String password, String schema) {

    /** The two databases the platform runs on. */
    public enum Vendor { SQLITE, POSTGRESQL }

    static final String FORMS = "expected sqlite:FILE or postgresql://HOST:PORT/DB?user=U[&password=P][&schema=S]";
    private static final int MAX_LENGTH = 4096;
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");
    private static final Pattern DATABASE = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_$.-]{0,62}");
    private static final Set<String> PARAMETERS = Set.of("user", "password", "schema");

    /** Parses a URL; anything else is a {@link UserException} with one line saying what was expected. */
    public static DatabaseUrl parse(String url) {
        if (url == null || url.isBlank()) {
            throw new UserException("empty database URL: " + FORMS);
        }
        if (url.length() > MAX_LENGTH) {
            throw new UserException("database URL longer than " + MAX_LENGTH + " characters: " + FORMS);
        }
        if (url.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new UserException("database URL contains control characters: " + FORMS);
        }
        if (url.startsWith("sqlite:")) {
            return sqlite(url.substring("sqlite:".length()));
        }
        if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
            return postgresql(url);
        }
        throw new UserException("unknown database URL '" + redact(url) + "': " + FORMS);
    }

    private static DatabaseUrl sqlite(String file) {
        if (file.isEmpty()) {
            throw new UserException("database URL sqlite: names no file: " + FORMS);
        }
        if (file.startsWith(":") || file.startsWith("file:") || file.contains("?")) {
            throw new UserException("sqlite:" + file + " is not a plain file path (no ':memory:', 'file:' URIs or '?')");
        }
        Path path;
        try {
            path = Path.of(file).toAbsolutePath().normalize();
        } catch (RuntimeException e) {
            throw new UserException("sqlite:" + file + " is not a valid file path");
        }
        return new DatabaseUrl(Vendor.SQLITE, path, null, 0, null, null, null, null);
    }

    private static DatabaseUrl postgresql(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new UserException("malformed PostgreSQL URL '" + redact(url) + "': " + e.getReason() + "; " + FORMS);
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new UserException("PostgreSQL URL '" + redact(url) + "' names no host: " + FORMS);
        }
        if (uri.getRawUserInfo() != null) {
            throw new UserException("PostgreSQL URL '" + redact(url) + "': give the user as ?user=U, not before the host");
        }
        if (uri.getRawFragment() != null) {
            throw new UserException("PostgreSQL URL '" + redact(url) + "' has a '#' fragment: " + FORMS);
        }
        int port = uri.getPort() == -1 ? 5432 : uri.getPort();
        if (port < 1 || port > 65535) {
            throw new UserException("PostgreSQL URL '" + redact(url) + "': port out of range");
        }
        String path = uri.getPath();
        String database = path == null || path.length() < 2 ? "" : path.substring(1);
        if (!DATABASE.matcher(database).matches()) {
            throw new UserException("PostgreSQL URL '" + redact(url) + "' needs a database name (letters, digits, _ $ . -) after the host: " + FORMS);
        }
        Map<String, String> parameters = new LinkedHashMap<>();
        String query = uri.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&", -1)) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new UserException("PostgreSQL URL '" + redact(url) + "': malformed parameter '" + (pair.startsWith("password") ? "password" : pair) + "'");
                }
                String key = pair.substring(0, eq);
                if (!PARAMETERS.contains(key)) {
                    throw new UserException("PostgreSQL URL '" + redact(url) + "': unknown parameter '" + key + "' (known: user, password, schema)");
                }
                String value;
                try {
                    value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    throw new UserException("PostgreSQL URL '" + redact(url) + "': bad %-escape in parameter '" + key + "'");
                }
                if (parameters.put(key, value) != null) {
                    throw new UserException("PostgreSQL URL '" + redact(url) + "': parameter '" + key + "' given twice");
                }
            }
        }
        String user = parameters.get("user");
        if (user == null || !NAME.matcher(user).matches()) {
            throw new UserException("PostgreSQL URL '" + redact(url) + "' needs ?user=NAME (letters, digits, _ $): " + FORMS);
        }
        String schema = parameters.get("schema");
        if (schema != null && !NAME.matcher(schema).matches()) {
            throw new UserException("PostgreSQL URL '" + redact(url) + "': schema must be letters, digits, _ $ (at most 63)");
        }
        String password = parameters.get("password");
        if (password != null && password.isEmpty()) {
            password = null;
        }
        return new DatabaseUrl(Vendor.POSTGRESQL, null, host, port, database, user, password, schema);
    }

    /** The URL with any password masked, for messages and logs. */
    static String redact(String url) {
        return Secrets.redact(url);
    }

    /** The same database reached with {@code password} (null: none). */
    public DatabaseUrl withPassword(String password) {
        return new DatabaseUrl(vendor, sqliteFile, host, port, database, user, password, schema);
    }

    /** The JDBC URL this maps to, without credentials (those go to the driver as properties). */
    public String jdbcUrl() {
        if (vendor == Vendor.SQLITE) {
            return "jdbc:sqlite:" + sqliteFile;
        }
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return "jdbc:postgresql://" + h + ":" + port + "/" + database;
    }

    /** A description for messages: never the password. */
    @Override
    public String toString() {
        if (vendor == Vendor.SQLITE) {
            return "sqlite:" + sqliteFile;
        }
        return "postgresql://" + host + ":" + port + "/" + database + "?user=" + user
                + (password != null ? "&password=***" : "") + (schema != null ? "&schema=" + schema : "");
    }
}
