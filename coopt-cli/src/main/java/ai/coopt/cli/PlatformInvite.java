package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.PlatformStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code coopt platform invite}: a one-time enrolment token for a participant. */
@Command(name = "invite", mixinStandardHelpOptions = true,
        description = "Make a one-time enrolment token for a participant (stored hashed; shown once).")
final class PlatformInvite implements Callable<Integer> {
    @Mixin
    ExistingPlatform platform;

    @Option(names = "--name", required = true, description = "The participant's name, as the dashboard shows it (unique).")
    String name;

    @Option(names = "--expires-hours", defaultValue = "24", description = "The token expires after this many hours (default: ${DEFAULT-VALUE}).")
    int hours;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        Check.positive("--expires-hours", hours);
        if (name.isBlank() || name.length() > 100 || name.chars().anyMatch(Character::isISOControl)) {
            throw new UserException("--name must be 1 to 100 printable characters");
        }
        try (Database database = platform.open()) {
            PlatformStore store = new PlatformStore(database);
            long now = System.currentTimeMillis();
            String token = store.participants().createInvite(name, now, Duration.ofHours(hours).toMillis());
            ObjectNode o = Output.object();
            o.put("name", name);
            o.put("invite", token);
            o.put("expires_at", Instant.ofEpochMilli(now + Duration.ofHours(hours).toMillis()).toString());
            Output.print(common.json, o, token);
            Output.note("coopt platform: invite for " + name + " (single use, expires in " + hours + " h): "
                    + "coopt participant enroll --platform URL --invite " + token + " --key KEYFILE");
        }
        return 0;
    }
}
