package ai.coopt.platform.db;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Opening, the SQLite settings, transactions and the errors a user can cause. */
class DatabaseTest {

    @TempDir
    Path dir;

    private static String pragma(Database db, String name) {
        return db.transaction(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA " + name)) {
                rs.next();
                return rs.getString(1);
            }
        });
    }

    private static int exec(Database db, String sql) {
        return db.transaction(c -> {
            try (Statement s = c.createStatement()) {
                return s.executeUpdate(sql);
            }
        });
    }

    private static long count(Database db, String table) {
        return db.transaction(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    @Test
    void sqliteIsDurableWalWithForeignKeys() {
        try (Database db = Database.open(TestDatabases.sqlite(dir))) {
            assertEquals("wal", pragma(db, "journal_mode"));
            assertEquals("2", pragma(db, "synchronous"), "FULL: each commit is synced");
            assertEquals("1", pragma(db, "foreign_keys"));
            assertEquals(Integer.toString(Database.SQLITE_BUSY_TIMEOUT_MS), pragma(db, "busy_timeout"));
        }
        assertTrue(Files.exists(dir.resolve("platform.db")));
    }

    @Test
    void aFailedTransactionLeavesNothing() {
        try (Database db = Database.open(TestDatabases.sqlite(dir))) {
            assertThrows(IllegalStateException.class, () -> db.transaction(c -> {
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("INSERT INTO rounds (id, config_json, created_at) VALUES (1, '{}', 0)");
                }
                throw new IllegalStateException("boom");
            }));
            DatabaseException e = assertThrows(DatabaseException.class, () -> db.transaction(c -> {
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("INSERT INTO rounds (id, config_json, created_at) VALUES (1, '{}', 0)");
                    s.executeUpdate("INSERT INTO rounds (id, config_json, created_at) VALUES (1, '{}', 0)");
                }
                return null;
            }));
            assertTrue(e.getMessage().contains("sqlite:"), e.getMessage());
            assertEquals(0, count(db, "rounds"));
            assertThrows(DatabaseException.class,
                    () -> exec(db, "INSERT INTO shards (round_id, shard, images, sha256, state) VALUES (7, 0, 1, 'x', 'open')"),
                    "foreign keys are enforced");
        }
    }

    @Test
    void jdbiHandlesRunInTheTransaction() {
        try (Database db = Database.open(TestDatabases.sqlite(dir))) {
            assertThrows(IllegalStateException.class, () -> db.inTransaction(h -> {
                h.execute("INSERT INTO rounds (id, config_json, created_at) VALUES (1, '{}', 0)");
                throw new IllegalStateException("boom");
            }));
            assertEquals(0, count(db, "rounds"), "rolled back with the transaction");
            DatabaseException e = assertThrows(DatabaseException.class, () -> db.inTransaction(h -> {
                h.execute("INSERT INTO rounds (id, config_json, created_at) VALUES (1, '{}', 0)");
                return h.execute("INSERT INTO rounds (id, config_json, created_at) VALUES (1, '{}', 0)");
            }));
            assertTrue(e.getCause() instanceof java.sql.SQLException, "the driver's error, as for plain JDBC work");
            assertEquals(0, count(db, "rounds"));
            assertEquals(1, (int) db.inTransaction(h -> h.execute("INSERT INTO rounds (id, config_json, created_at)"
                    + " VALUES (1, '{}', 0)")), "closing a handle neither ends the transaction nor closes its connection");
            assertEquals(1, count(db, "rounds"));
            assertEquals(0, exec(db, "DELETE FROM rounds WHERE id = 2"), "the connection still works for plain JDBC");
        }
    }

    @Test
    void anotherProcessCanWriteBetweenTransactions() {
        // the CLI's `platform invite` writes while the server has the database open
        try (Database server = Database.open(TestDatabases.sqlite(dir)); Database cli = Database.open(TestDatabases.sqlite(dir))) {
            exec(server, "INSERT INTO rounds (id, config_json, created_at) VALUES (1, '{}', 0)");
            long start = System.nanoTime();
            exec(cli, "INSERT INTO rounds (id, config_json, created_at) VALUES (2, '{}', 0)");
            assertTrue(System.nanoTime() - start < 2_000_000_000L, "no write lock is held between transactions");
            assertEquals(2, count(server, "rounds"));
        }
    }

    @Test
    void userErrorsAreOneLine() throws Exception {
        UserException noDir = assertThrows(UserException.class, () -> Database.open("sqlite:" + dir.resolve("missing/platform.db")));
        assertTrue(noDir.getMessage().contains("does not exist"), noDir.getMessage());

        UserException isDir = assertThrows(UserException.class, () -> Database.open("sqlite:" + dir));
        assertTrue(isDir.getMessage().contains("directory"), isDir.getMessage());

        Path garbage = dir.resolve("garbage.db");
        Files.write(garbage, new byte[4096]);
        Files.writeString(garbage, "this is not a database, just some text that is long enough to look like a header".repeat(80));
        UserException notDb = assertThrows(UserException.class, () -> Database.open("sqlite:" + garbage));
        assertFalse(notDb.getMessage().contains("\n"), notDb.getMessage());
        assertTrue(notDb.getMessage().contains(garbage.toString()), notDb.getMessage());

        UserException refused = assertThrows(UserException.class, () -> Database.open("postgresql://127.0.0.1:1/coopt?user=nobody"));
        assertTrue(refused.getMessage().startsWith("cannot open postgresql://127.0.0.1:1/coopt"), refused.getMessage());
        assertFalse(refused.getMessage().contains("\n"), refused.getMessage());
    }

    @Test
    void aDatabaseFromANewerCooptIsRefused() {
        String url = TestDatabases.sqlite(dir);
        try (Database db = Database.open(url)) {
            exec(db, "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by,"
                    + " execution_time, success) VALUES (99, '99', 'from the future', 'SQL', 'V99__future.sql', 0, '', 0, 1)");
        }
        UserException e = assertThrows(UserException.class, () -> Database.open(url));
        assertTrue(e.getMessage().contains("newer"), e.getMessage());
    }

    @Test
    void aForeignDatabaseIsNotTouched() {
        String url = TestDatabases.sqlite(dir);
        try (Database db = Database.open(url)) {
            exec(db, "DROP TABLE flyway_schema_history");
        }
        UserException e = assertThrows(UserException.class, () -> Database.open(url));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aClosedDatabaseRefusesWork() {
        Database db = Database.open(TestDatabases.sqlite(dir));
        db.close();
        assertThrows(IllegalStateException.class, () -> db.transaction(c -> null));
    }
}
