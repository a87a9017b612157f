package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.Participant;
import ai.coopt.platform.db.PlatformStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code coopt platform revoke}: quarantine a participant by hand. */
@Command(name = "revoke", mixinStandardHelpOptions = true,
        description = "Quarantine a participant by hand (a squatter, a leaked key, a party that left): its uploads "
                + "of this round are withdrawn, the shards it filled or holds are open again, its pending audits "
                + "fail, and it gets nothing more from the platform. Recorded with the reason, shown on the "
                + "dashboard and in the status. Works against a running serve (same database).")
final class PlatformRevoke implements Callable<Integer> {
    /** Prefix of every reason given by hand, so the dashboard tells the operator's quarantines from the checks'. */
    static final String PREFIX = "revoked by the operator: ";

    @Mixin
    ExistingPlatform platform;

    @Option(names = "--participant", required = true, paramLabel = "ID", description = "The participant's id (as the dashboard or status shows it).")
    String participant;

    @Option(names = "--reason", required = true, description = "Why, in one line (recorded and shown).")
    String reason;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        if (reason.isBlank() || reason.length() > 300 || reason.chars().anyMatch(Character::isISOControl)) {
            throw new UserException("--reason must be 1 to 300 printable characters");
        }
        try (Database database = platform.open()) {
            PlatformStore store = new PlatformStore(database);
            Participant p = store.participants().get(participant).orElseThrow(() -> new UserException(
                    "--participant " + participant + ": no such participant in " + platform.dir
                            + " (coopt platform status lists them)"));
            boolean changed = store.audits().quarantine(p.id(), PREFIX + reason.strip(), System.currentTimeMillis());
            Participant now = store.participants().get(p.id()).orElseThrow();
            ObjectNode o = Output.object();
            o.put("participant", now.id());
            o.put("name", now.name());
            o.put("revoked", changed);
            o.put("reason", now.quarantineReason());
            Output.print(common.json, o, changed
                    ? "revoked " + now.name() + " (" + now.id() + "): " + now.quarantineReason()
                    : now.name() + " (" + now.id() + ") was already quarantined: " + now.quarantineReason());
        }
        return 0;
    }
}
