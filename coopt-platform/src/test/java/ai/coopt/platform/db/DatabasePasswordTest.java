package ai.coopt.platform.db;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the PostgreSQL password comes from when it is not on the command line, in order. */
class DatabasePasswordTest {
    private static final DatabaseUrl PG = DatabaseUrl.parse("postgresql://db.example.org/coopt?user=coopt");

    @Test
    void fileThenCooptVariableThenPgpasswordThenNone(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("db.txt");
        Files.writeString(file, "from-file\nignored\n");
        Map<String, String> env = Map.of(DatabasePassword.ENV, "from-coopt-env", DatabasePassword.PG_ENV, "from-pg-env");
        assertEquals("from-file", DatabasePassword.resolve(PG, file, env).password());
        assertEquals("from-coopt-env", DatabasePassword.resolve(PG, null, env).password());
        assertEquals("from-pg-env", DatabasePassword.resolve(PG, null, Map.of(DatabasePassword.PG_ENV, "from-pg-env")).password());
        // none: the driver reads ~/.pgpass (or PGPASSFILE) itself
        assertNull(DatabasePassword.resolve(PG, null, Map.of()).password());
        DatabaseUrl inUrl = DatabaseUrl.parse("postgresql://db.example.org/coopt?user=coopt&password=in-url");
        assertEquals("in-url", DatabasePassword.resolve(inUrl, null, env).password());
        assertTrue(DatabasePassword.resolve(PG, file, env).toString().contains("password=***"));
    }

    @Test
    void contradictionsAreOneLine(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("db.txt");
        Files.writeString(file, "x\n");
        Path empty = Files.writeString(tmp.resolve("empty.txt"), "");
        DatabaseUrl inUrl = DatabaseUrl.parse("postgresql://db.example.org/coopt?user=coopt&password=in-url");
        assertTrue(assertThrows(UserException.class, () -> DatabasePassword.resolve(inUrl, file, Map.of()))
                .getMessage().contains("give the password once"));
        assertTrue(assertThrows(UserException.class, () -> DatabasePassword.resolve(PG, empty, Map.of()))
                .getMessage().contains("empty"));
        assertTrue(assertThrows(UserException.class, () -> DatabasePassword.resolve(PG, tmp.resolve("none"), Map.of()))
                .getMessage().contains("cannot read"));
        DatabaseUrl sqlite = DatabaseUrl.parse("sqlite:" + tmp.resolve("p.db"));
        assertTrue(assertThrows(UserException.class, () -> DatabasePassword.resolve(sqlite, file, Map.of()))
                .getMessage().contains("takes no password"));
        assertNull(DatabasePassword.resolve(sqlite, null, Map.of(DatabasePassword.ENV, "x")).password());
    }

    /** A password in the URL's user info is masked in the message that refuses that form. */
    @Test
    void aUserInfoPasswordIsNotEchoed() {
        UserException e = assertThrows(UserException.class,
                () -> DatabaseUrl.parse("postgresql://coopt:pw-Hk2@db.example.org/coopt"));
        assertTrue(!e.getMessage().contains("pw-Hk2") && e.getMessage().contains("coopt:***@"), e.getMessage());
    }
}
