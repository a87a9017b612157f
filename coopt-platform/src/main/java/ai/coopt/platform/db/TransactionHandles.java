package ai.coopt.platform.db;

import org.jdbi.v3.core.ConnectionFactory;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Handles;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * {@link Database}'s bridge to Jdbi: one {@link Jdbi} whose connection is the running transaction's, handed out only
 * while {@link #run} runs (inside {@link Database#transaction}, under its lock) and never closed by Jdbi.
 */
final class TransactionHandles implements ConnectionFactory {

    private final Jdbi jdbi;
    /** The running transaction's connection; set and read only under Database's lock. */
    private Connection current;

    TransactionHandles() {
        jdbi = Jdbi.create(this);
        // the transaction is Database's, not the handle's: on SQLite (auto-commit, explicit BEGIN IMMEDIATE) Jdbi cannot
        // see it and on PostgreSQL it sees one already open; either way closing a handle must not end it
        jdbi.getConfig(Handles.class).setForceEndTransactions(false);
    }

    /**
     * Runs {@code work} with a handle on {@code transaction}'s connection. A statement that fails comes out as its
     * {@link SQLException} (Jdbi wraps it), so that {@link Database#transaction} rolls it back, retries it and reports
     * it exactly as plain JDBC work.
     */
    <T> T run(Connection transaction, Database.HandleWork<T> work) throws SQLException {
        current = transaction;
        try (Handle handle = jdbi.open()) {
            return work.run(handle);
        } catch (JdbiException e) {
            if (e.getCause() instanceof SQLException sql) {
                throw sql;
            }
            throw e;
        } finally {
            current = null;
        }
    }

    @Override
    public Connection openConnection() {
        if (current == null) {
            throw new IllegalStateException("a Jdbi handle is opened only inside a transaction");
        }
        return current;
    }

    @Override
    public void closeConnection(Connection toClose) {
        // the transaction's connection outlives the handle: Database closes it
    }
}
