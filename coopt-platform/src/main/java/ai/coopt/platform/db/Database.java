package ai.coopt.platform.db;

import ai.coopt.UserException;
import ai.coopt.platform.PrivateFiles;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.output.MigrateResult;
import org.jdbi.v3.core.Handle;
import org.postgresql.ds.PGSimpleDataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import javax.sql.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The platform's database: opened from a {@link DatabaseUrl}, migrated to the current schema on open
 * (Flyway: versioned SQL under {@code ai/coopt/platform/db/migration/}, one script for both vendors with
 * placeholders where their types differ).
 *
 * <p>Every piece of work runs through {@link #transaction}: one transaction on one connection that this
 * object keeps, with a lock around it, so the process's request threads take turns (readers too: a
 * platform has a handful of threads and short transactions). Across processes the database itself
 * serializes: SQLite transactions begin IMMEDIATE (the write lock is taken at BEGIN, other processes wait
 * up to the busy timeout); PostgreSQL transactions are SERIALIZABLE and retried when the server reports
 * a serialization failure or a deadlock, except where a caller asks for {@link Isolation#READ_COMMITTED}: work
 * that takes explicit row locks ({@code FOR UPDATE [SKIP LOCKED]}) so that several processes (two {@code serve}
 * processes on one database) pick different rows instead of failing each other's serialization.
 *
 * <p>Work that runs SQL through Jdbi takes a {@link Handle} with {@link #inTransaction}: the handle is opened on the
 * transaction's connection and closing it leaves the connection open, so the transaction (its beginning, commit,
 * rollback, isolation and retries) stays this object's; Jdbi only prepares the statements, binds their parameters and
 * maps their rows.
 *
 * <p>SQLite runs with the WAL journal, {@code synchronous=FULL} (each commit is on disk before it
 * returns: a committed transaction survives {@code kill -9} and power loss) and foreign keys on.
 */
public final class Database implements AutoCloseable {

    /**
     * How a PostgreSQL transaction is isolated (SQLite's IMMEDIATE transactions serialize every kind).
     * {@link #READ_COMMITTED} is only for work that locks the rows it reads before it decides on them ({@code FOR
     * UPDATE}, or {@code FOR UPDATE SKIP LOCKED} to pass over rows another transaction holds) and whose updates say
     * again in their WHERE what they expect of the row: each statement then sees the latest committed rows.
     */
    public enum Isolation { SERIALIZABLE, READ_COMMITTED }

    /** A piece of work inside one transaction; it may run more than once (PostgreSQL retries). */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /** {@link Work} given a Jdbi {@link Handle} on the transaction's connection; it may run more than once too. */
    @FunctionalInterface
    public interface HandleWork<T> {
        T run(Handle handle) throws SQLException;
    }

    /** How long a SQLite transaction waits for another process's write lock. */
    static final int SQLITE_BUSY_TIMEOUT_MS = 10_000;
    private static final int POSTGRESQL_CONNECT_TIMEOUT_S = 10;
    private static final int SERIALIZATION_RETRIES = 8;
    /** The newest schema version this code knows (the highest V{n}__*.sql). */
    public static final int SCHEMA_VERSION = 5;

    private final DatabaseUrl url;
    private final DataSource dataSource;
    private final ReentrantLock lock = new ReentrantLock(true);
    private final TransactionHandles handles = new TransactionHandles();
    private Connection connection;
    private boolean closed;

    private Database(DatabaseUrl url, DataSource dataSource) {
        this.url = url;
        this.dataSource = dataSource;
    }

    /** Parses the URL (see {@link DatabaseUrl}), connects and migrates; user errors are {@link UserException}s. */
    public static Database open(String url) {
        return open(DatabaseUrl.parse(url));
    }

    /**
     * Connects to the database and brings its schema to {@link #SCHEMA_VERSION}; a PostgreSQL URL without a password
     * takes it from the environment or {@code ~/.pgpass} ({@link DatabasePassword}).
     */
    public static Database open(DatabaseUrl url) {
        url = DatabasePassword.resolve(url, null, System.getenv());
        Database db = new Database(url, dataSource(url));
        try {
            db.probe();
            db.migrate();
            return db;
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    private static DataSource dataSource(DatabaseUrl url) {
        if (url.vendor() == DatabaseUrl.Vendor.SQLITE) {
            Path file = url.sqliteFile();
            Path parent = file.getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new UserException("cannot open " + url + ": directory " + parent + " does not exist");
            }
            if (Files.isDirectory(file)) {
                throw new UserException("cannot open " + url + ": it is a directory");
            }
            // private before SQLite opens it (its -wal and -shm files take its mode): changing the mode later, while
            // this process holds SQLite's POSIX locks on the file, would drop them (see PrivateFiles.restrict)
            PrivateFiles.createPrivateFile(file);
            for (String suffix : new String[] {"-wal", "-shm"}) {
                PrivateFiles.restrict(file.resolveSibling(file.getFileName() + suffix));
            }
            SQLiteConfig config = new SQLiteConfig();
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
            config.enforceForeignKeys(true);
            config.setBusyTimeout(SQLITE_BUSY_TIMEOUT_MS);
            SQLiteDataSource ds = new SQLiteDataSource(config);
            ds.setUrl(url.jdbcUrl());
            return ds;
        }
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url.jdbcUrl());
        ds.setUser(url.user());
        if (url.password() != null) {
            ds.setPassword(url.password());
        }
        if (url.schema() != null) {
            ds.setCurrentSchema(url.schema());
        }
        ds.setApplicationName("coopt-platform");
        ds.setConnectTimeout(POSTGRESQL_CONNECT_TIMEOUT_S);
        ds.setLoginTimeout(POSTGRESQL_CONNECT_TIMEOUT_S);
        ds.setTcpKeepAlive(true);
        return ds;
    }

    /** Opens one connection first, so that a wrong address, password or file is told in one line. */
    private void probe() {
        try (Connection c = dataSource.getConnection()) {
            c.getMetaData();
        } catch (SQLException e) {
            boolean noPassword = url.vendor() == DatabaseUrl.Vendor.POSTGRESQL && url.password() == null
                    && String.valueOf(e.getMessage()).contains("no password was provided");
            throw new UserException("cannot open " + url + ": " + oneLine(e) + (noPassword ? " (give it with "
                    + "--db-password-file FILE, " + DatabasePassword.ENV + ", " + DatabasePassword.PG_ENV
                    + " or ~/.pgpass)" : ""));
        }
    }

    private void migrate() {
        var config = Flyway.configure(Database.class.getClassLoader())
                .dataSource(dataSource)
                .locations("classpath:ai/coopt/platform/db/migration")
                .placeholders(typePlaceholders(url.vendor()))
                .validateMigrationNaming(true);
        if (url.schema() != null) {
            config = config.schemas(url.schema()).createSchemas(true);
        }
        Flyway flyway = config.load();
        try {
            for (MigrationInfo applied : flyway.info().applied()) {
                if (applied.getState() == MigrationState.FUTURE_SUCCESS || applied.getState() == MigrationState.FUTURE_FAILED) {
                    throw new UserException("the database " + url + " has schema version " + applied.getVersion()
                            + ", newer than this coopt knows (" + SCHEMA_VERSION + "): use a newer coopt");
                }
            }
            MigrateResult result = flyway.migrate();
            if (!result.success) {
                throw new UserException("cannot migrate the database " + url + ": Flyway reported failure");
            }
        } catch (FlywayException e) {
            throw new UserException("cannot prepare the database " + url + ": " + oneLine(e));
        }
    }

    /** The migrations' per-vendor type names (see the head of V1__init.sql). */
    static Map<String, String> typePlaceholders(DatabaseUrl.Vendor vendor) {
        return switch (vendor) {
            case SQLITE -> Map.of("id", "INTEGER PRIMARY KEY AUTOINCREMENT", "int64", "INTEGER",
                    "float64", "REAL", "strict", "STRICT");
            case POSTGRESQL -> Map.of("id", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "int64", "BIGINT",
                    "float64", "DOUBLE PRECISION", "strict", "");
        };
    }

    /** Which database this is. */
    public DatabaseUrl.Vendor vendor() {
        return url.vendor();
    }

    /** Where it is (never with the password). */
    public DatabaseUrl url() {
        return url;
    }

    /**
     * Runs {@code work} in one transaction and commits it; on any exception the transaction is rolled back
     * and nothing of it is kept. SQL errors come out as {@link DatabaseException}. Transactions do not nest.
     */
    public <T> T transaction(Work<T> work) {
        return transaction(Isolation.SERIALIZABLE, work);
    }

    /** {@link #transaction(Work)} at the given isolation on PostgreSQL (see {@link Isolation}). */
    public <T> T transaction(Isolation isolation, Work<T> work) {
        if (lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("transactions do not nest: the work of one called transaction() again");
        }
        for (int attempt = 1; ; attempt++) {
            lock.lock();
            try {
                Connection c = connection();
                try {
                    begin(c, isolation);
                    T result = work.run(c);
                    commit(c);
                    return result;
                } catch (SQLException e) {
                    rollback(c);
                    if (!serializationFailure(e) || attempt >= SERIALIZATION_RETRIES) {
                        if (connectionLost(e)) {
                            discardConnection();
                        }
                        throw new DatabaseException(url + ": " + oneLine(e), e);
                    }
                } catch (RuntimeException | Error e) {
                    rollback(c);
                    throw e;
                }
            } finally {
                lock.unlock();
            }
            backOff(attempt); // outside the lock: this process's other transactions go on meanwhile
        }
    }

    /** {@link #transaction(Isolation, Work)} with a Jdbi handle on the transaction's connection (see {@link TransactionHandles}). */
    public <T> T inTransaction(Isolation isolation, HandleWork<T> work) {
        return transaction(isolation, c -> handles.run(c, work));
    }

    /** {@link #inTransaction(Isolation, HandleWork)}, SERIALIZABLE on PostgreSQL. */
    public <T> T inTransaction(HandleWork<T> work) {
        return inTransaction(Isolation.SERIALIZABLE, work);
    }

    private Connection connection() {
        if (closed) {
            throw new IllegalStateException("the database " + url + " is closed");
        }
        try {
            if (connection != null && connection.isClosed()) {
                connection = null;
            }
            if (connection == null) {
                Connection c = dataSource.getConnection();
                if (url.vendor() == DatabaseUrl.Vendor.POSTGRESQL) {
                    c.setAutoCommit(false);
                    c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
                }
                connection = c;
            }
            return connection;
        } catch (SQLException e) {
            connection = null;
            throw new DatabaseException("cannot connect to " + url + ": " + oneLine(e), e);
        }
    }

    /*
     * SQLite: the connection stays in auto-commit mode and each transaction is an explicit BEGIN IMMEDIATE ..
     * COMMIT, so the write lock is held only inside a transaction (the driver's own non-auto-commit mode
     * would open the next transaction right after each commit). PostgreSQL: the driver's transactions,
     * begun by the first statement (SERIALIZABLE, the connection's level), which for READ_COMMITTED is SET
     * TRANSACTION: it must come before any query of the transaction and holds for that transaction only.
     */
    private void begin(Connection c, Isolation isolation) throws SQLException {
        if (url.vendor() == DatabaseUrl.Vendor.SQLITE) {
            try (Statement s = c.createStatement()) {
                s.execute("BEGIN IMMEDIATE");
            }
        } else if (isolation == Isolation.READ_COMMITTED) {
            try (Statement s = c.createStatement()) {
                s.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
            }
        }
    }

    /**
     * Before retrying a transaction that lost a serialization conflict: a short random pause that grows with the
     * attempt, so that the transactions of two processes that keep colliding drift apart.
     */
    private static void backOff(int attempt) {
        long maxMs = Math.min(200, 5L << attempt);
        try {
            Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(1, maxMs + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DatabaseException("interrupted while retrying a transaction", e);
        }
    }

    private void commit(Connection c) throws SQLException {
        if (url.vendor() == DatabaseUrl.Vendor.SQLITE) {
            try (Statement s = c.createStatement()) {
                s.execute("COMMIT");
            }
        } else {
            c.commit();
        }
    }

    private void rollback(Connection c) {
        try {
            if (url.vendor() == DatabaseUrl.Vendor.SQLITE) {
                try (Statement s = c.createStatement()) {
                    s.execute("ROLLBACK");
                }
            } else {
                c.rollback();
            }
        } catch (SQLException e) {
            // SQLite: no transaction was open (BEGIN itself failed) or it ended already; either way the
            // connection is in doubt, so it is replaced before the next transaction
            discardConnection();
        }
    }

    private void discardConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // the connection is being dropped because it failed: nothing more to do with it
            }
            connection = null;
        }
    }

    private boolean serializationFailure(SQLException e) {
        if (url.vendor() != DatabaseUrl.Vendor.POSTGRESQL) {
            return false;
        }
        String state = e.getSQLState();
        return "40001".equals(state) || "40P01".equals(state);
    }

    private boolean connectionLost(SQLException e) {
        String state = e.getSQLState();
        if (state != null && state.startsWith("08")) {
            return true;
        }
        return e instanceof SQLiteException s && s.getResultCode() == SQLiteErrorCode.SQLITE_IOERR;
    }

    static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Throwable cause = e.getCause();
        if (message.contains("Unable to obtain connection") && cause != null && cause.getMessage() != null) {
            message = cause.getMessage();
        }
        message = message.strip();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline).strip();
    }

    /** Closes the connection; later transactions fail. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            discardConnection();
        } finally {
            lock.unlock();
        }
    }
}
