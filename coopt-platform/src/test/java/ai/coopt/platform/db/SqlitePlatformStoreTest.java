package ai.coopt.platform.db;

import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The {@link PlatformStore} suite on SQLite: a new database file per test. */
class SqlitePlatformStoreTest extends PlatformStoreContract {

    @TempDir
    Path dir;

    @Override
    String newDatabaseUrl() {
        return TestDatabases.sqlite(dir);
    }

    @Override
    void dropDatabase(String url) {
        // the temporary directory goes with the test
    }
}
