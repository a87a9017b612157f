package ai.coopt.cli;

import ai.coopt.platform.auth.OperatorToken;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --operator-token-file FILE}: the operator's token, for the routes only participants and the operator read. */
final class OperatorOptions {
    @Option(names = "--operator-token-file", paramLabel = "FILE", description = "The operator's token: the file "
            + OperatorToken.FILE + " that serve made in the platform directory (the dashboard, status and dataset "
            + "are for participants and the operator unless serve opened them with --public-dashboard/--public-dataset).")
    Path tokenFile;

    /** The token, or null when none was given; one line (exit 2) when the file is not one. */
    String token() {
        return tokenFile == null ? null : OperatorToken.read(tokenFile);
    }
}
