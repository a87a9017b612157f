package ai.coopt.cli;

import ai.coopt.platform.PlatformHome;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.DatabasePassword;
import ai.coopt.platform.db.DatabaseUrl;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --db}: where the platform's state lives (default: SQLite in the directory). */
final class DbOption {
    @Option(names = "--db", paramLabel = "URL", description = "sqlite:FILE or postgresql://HOST:PORT/DB?user=U "
            + "(default: the one the platform directory was started with; SQLite platform.db in it for a new one).")
    String db;

    @Option(names = "--db-password-file", paramLabel = "FILE", description = "File holding the PostgreSQL password "
            + "(first line). Without it: " + DatabasePassword.ENV + ", then " + DatabasePassword.PG_ENV + ", then "
            + "~/.pgpass. A password in the URL works too, but is visible in ps; it is never recorded.")
    Path passwordFile;

    String resolve(Path dir) {
        return PlatformHome.database(dir, db);
    }

    /** The database {@link #resolve} names, opened with its password from wherever it is given. */
    Database open(String url) {
        return Database.open(DatabasePassword.resolve(DatabaseUrl.parse(url), passwordFile, System.getenv()));
    }
}
