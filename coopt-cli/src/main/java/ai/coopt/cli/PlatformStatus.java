package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.platform.client.PlatformClient;
import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code coopt platform status}: a platform's state as JSON. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "A platform's state as JSON: shards by state, participants (with why any is quarantined), uploads, audits, uniformity ranking, residuals, fusion.")
final class PlatformStatus implements Callable<Integer> {
    @Mixin
    PlatformOptions remote;

    @Mixin
    OperatorOptions operator;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws IOException {
        PlatformClient client = remote.operatorClient(operator.token(), Duration.ofSeconds(30));
        JsonNode status;
        try {
            status = client.get("/v1/status");
        } catch (PlatformClient.Refusal e) {
            throw new UserException("the platform refused the status (HTTP " + e.status() + "): " + e.getMessage());
        }
        System.out.println(common.json ? Output.JSON.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(status)
                : Output.JSON.writeValueAsString(status));
        return 0;
    }
}
