package ai.coopt.platform.db;

/**
 * The {@link PlatformStore} suite on PostgreSQL ({@code COOPT_TEST_POSTGRESQL}): a new schema per test,
 * dropped after it. Skipped when the variable is unset, except under CI, where that fails.
 */
class PostgresqlPlatformStoreTest extends PlatformStoreContract {

    @Override
    String newDatabaseUrl() {
        return TestDatabases.postgresqlFreshSchema();
    }

    @Override
    void dropDatabase(String url) {
        TestDatabases.dropSchema(url);
    }
}
