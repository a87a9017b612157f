package ai.coopt.platform.db;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;

/**
 * Where the database tests run: a SQLite file in a temporary directory, or a fresh schema in the PostgreSQL
 * database named by {@code COOPT_TEST_POSTGRESQL} (postgresql://HOST:PORT/DB?user=U[&password=P]). Without
 * that variable the PostgreSQL cases are skipped, except under CI (env CI set), where they fail: no
 * database test is skipped in CI.
 */
public final class TestDatabases {

    public static final String POSTGRESQL_ENV = "COOPT_TEST_POSTGRESQL";

    private TestDatabases() {
    }

    /** A URL for a new SQLite database in {@code dir}. */
    public static String sqlite(Path dir) {
        return "sqlite:" + dir.resolve("platform.db");
    }

    /** The PostgreSQL test database's URL, or a skip (locally) / failure (CI) when it is not configured. */
    public static String postgresqlBase() {
        String url = System.getenv(POSTGRESQL_ENV);
        if (url == null || url.isBlank()) {
            String ci = System.getenv("CI");
            if (ci != null && !ci.isBlank()) {
                Assertions.fail(POSTGRESQL_ENV + " is not set but CI is: .ci/run must start PostgreSQL and export it");
            }
            Assumptions.abort(POSTGRESQL_ENV + " is not set: PostgreSQL cases skipped (set it to postgresql://HOST:PORT/DB?user=U)");
        }
        return url;
    }

    /** A URL for a fresh, empty schema of the PostgreSQL test database (see {@link #dropSchema}). */
    public static String postgresqlFreshSchema() {
        String base = postgresqlBase();
        String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 20).toLowerCase(Locale.ROOT);
        return base + (base.contains("?") ? "&" : "?") + "schema=" + schema;
    }

    /** Drops the schema a {@link #postgresqlFreshSchema} URL names, with everything in it. */
    public static void dropSchema(String url) {
        DatabaseUrl parsed = DatabaseUrl.parse(url);
        Properties props = new Properties();
        props.setProperty("user", parsed.user());
        if (parsed.password() != null) {
            props.setProperty("password", parsed.password());
        }
        try (Connection c = DriverManager.getConnection(parsed.jdbcUrl(), props); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS \"" + parsed.schema() + "\" CASCADE");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop test schema " + parsed.schema() + ": " + e.getMessage(), e);
        }
    }
}
