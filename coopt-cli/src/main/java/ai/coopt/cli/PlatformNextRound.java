package ai.coopt.cli;

import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Round;
import ai.coopt.platform.server.PlatformService;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code coopt platform next-round}: open the next round over the same data once the current one is fused. */
@Command(name = "next-round", mixinStandardHelpOptions = true,
        description = "Open the next round over the same data, shards and shared subset, once the current round is "
                + "fused (its dataset written): every shard is open again, participants send their outputs on the "
                + "shared subset again (they may bring another prior), and earlier rounds' datasets stay "
                + "downloadable (coopt platform download --round N). A running serve picks the new round up; no "
                + "restart needed.")
final class PlatformNextRound implements Callable<Integer> {
    @Mixin
    ExistingPlatform platform;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        Path dir = platform.dir;
        try (Database database = platform.open()) {
            PlatformStore store = new PlatformStore(database);
            int previous = store.rounds().current().map(Round::id).orElse(0);
            Round opened = PlatformService.nextRound(dir, store, System.currentTimeMillis());
            ObjectNode o = Output.object();
            o.put("round", opened.id());
            o.put("previous", previous);
            o.put("previous_dataset", PlatformService.fusedDir(dir, previous).toAbsolutePath().toString());
            o.put("shards", store.rounds().shards().size());
            o.put("created_at", Instant.ofEpochMilli(opened.createdAt()).toString());
            Output.print(common.json, o, "opened round " + opened.id() + " in " + dir + " (" + store.rounds().shards().size()
                    + " shards open; round " + previous + "'s dataset stays downloadable with --round " + previous + ")");
        }
        return 0;
    }
}
