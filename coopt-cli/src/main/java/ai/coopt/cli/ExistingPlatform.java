package ai.coopt.cli;

import ai.coopt.platform.PlatformHome;
import ai.coopt.platform.db.Database;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --dir} and {@code --db} of a command that works on an existing platform's directory and database. */
final class ExistingPlatform {
    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The platform's directory.")
    Path dir;

    @Mixin
    DbOption db;

    /** Its database, opened; one line (exit 2) when the directory is not a platform's. */
    Database open() {
        PlatformHome.requireExisting(dir);
        return db.open(db.resolve(dir));
    }
}
