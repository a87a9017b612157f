package ai.coopt.cli;

import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.PlatformClient;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;

/** How a command reaches a platform: {@code --platform URL [--ca-cert PEM]}. */
final class PlatformOptions {
    @Option(names = "--platform", required = true, paramLabel = "URL", description = "The platform's URL.")
    String platform;

    @Option(names = "--ca-cert", paramLabel = "PEM", description = "Trust this certificate (a platform with a self-signed one).")
    Path caCert;

    /** A client signing with {@code keys} (null for the read-only routes), retrying an outage for {@code retryFor}. */
    PlatformClient client(KeyFile keys, Duration retryFor) {
        return new PlatformClient(platform, caCert, keys, retryFor, Output::note);
    }

    /** An anonymous client that shows the operator's token (null for none), retrying an outage for {@code retryFor}. */
    PlatformClient operatorClient(String operatorToken, Duration retryFor) {
        return new PlatformClient(platform, caCert, null, operatorToken, retryFor, Output::note);
    }
}
