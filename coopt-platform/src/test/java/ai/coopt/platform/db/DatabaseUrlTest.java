package ai.coopt.platform.db;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatabaseUrlTest {

    @Test
    void sqliteUrlsNameAFile() {
        DatabaseUrl url = DatabaseUrl.parse("sqlite:/tmp/x/platform.db");
        assertEquals(DatabaseUrl.Vendor.SQLITE, url.vendor());
        assertEquals(Path.of("/tmp/x/platform.db"), url.sqliteFile());
        assertEquals("jdbc:sqlite:/tmp/x/platform.db", url.jdbcUrl());
        assertTrue(DatabaseUrl.parse("sqlite:relative.db").sqliteFile().isAbsolute());
    }

    @Test
    void postgresqlUrlsMapToJdbc() {
        DatabaseUrl url = DatabaseUrl.parse("postgresql://127.0.0.1:5433/coopt?user=coopt&password=s%3Dcret&schema=run_1");
        assertEquals(DatabaseUrl.Vendor.POSTGRESQL, url.vendor());
        assertEquals("jdbc:postgresql://127.0.0.1:5433/coopt", url.jdbcUrl());
        assertEquals("coopt", url.user());
        assertEquals("s=cret", url.password());
        assertEquals("run_1", url.schema());
        assertFalse(url.toString().contains("s=cret"), url.toString());

        DatabaseUrl plain = DatabaseUrl.parse("postgresql://db.example/coopt?user=u");
        assertEquals(5432, plain.port());
        assertNull(plain.password());
        assertNull(plain.schema());
        assertEquals("jdbc:postgresql://[::1]:6000/d", DatabaseUrl.parse("postgresql://[::1]:6000/d?user=u").jdbcUrl());
    }

    @Test
    void badUrlsAreOneLineUserErrorsWithoutThePassword() {
        String[] bad = {
            "", "   ", "mysql://h/db", "jdbc:postgresql://h/db?user=u", "sqlite:", "sqlite::memory:", "sqlite:file:x.db",
            "sqlite:x.db?mode=ro", "postgresql://h/db", "postgresql:///db?user=u", "postgresql://h/?user=u",
            "postgresql://h:99999/db?user=u", "postgresql://h/db?user=u&sslfactory=evil", "postgresql://h/db?user=u&user=v",
            "postgresql://h/db?user=u;drop", "postgresql://h/db?user=u&schema=a-b", "postgresql://u:pw@h/db?user=u",
            "postgresql://h/db?user=u&password", "postgresql://h/db?user=u&password=%zz", "postgresql://h/db?user=u#frag",
            "postgresql://h/d b?user=u", "sqlite:" + "x".repeat(5000), "sqlite:a\nb",
        };
        for (String url : bad) {
            UserException e = assertThrows(UserException.class, () -> DatabaseUrl.parse(url), url);
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        UserException e = assertThrows(UserException.class, () -> DatabaseUrl.parse("postgresql://h/db?user=u&password=hunter2&x=1"));
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        UserException unknown = assertThrows(UserException.class, () -> DatabaseUrl.parse("mysql://h/db"));
        assertTrue(unknown.getMessage().contains("expected sqlite:FILE or postgresql://"), unknown.getMessage());
    }
}
