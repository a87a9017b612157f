package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.platform.PlatformHome;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.Fusion;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.server.PlatformService;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code coopt platform fuse}: fuse the current round now with the shards accepted so far. */
@Command(name = "fuse", mixinStandardHelpOptions = true,
        description = "Fuse the current round now with the shards accepted so far (recorded as forced in the dataset "
                + "and the status).")
final class PlatformFuse implements Callable<Integer> {
    @Mixin
    ExistingPlatform platform;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws IOException {
        Path dir = platform.dir;
        PlatformHome.requireExisting(dir);
        common.engine();
        try (Database database = platform.open()) {
            PlatformStore store = new PlatformStore(database);
            try (PlatformService service = PlatformService.existing(dir, store, System::currentTimeMillis)) {
                if (!service.claimFusion(true)) {
                    throw new UserException("fusion is " + store.fusion().state().state().name().toLowerCase(Locale.ROOT)
                            + " already");
                }
                service.fuse(true);
                Fusion f = store.fusion().state();
                if (f.state() != FusionState.DONE) {
                    throw new UserException("fusion failed: " + f.detailJson());
                }
                int round = store.rounds().current().orElseThrow().id();
                Path fused = PlatformService.fusedDir(dir, round);
                ObjectNode o = Output.object();
                o.put("round", round);
                o.put("out", fused.toAbsolutePath().toString());
                o.put("state", "done");
                o.put("forced", true);
                o.set("detail", Output.JSON.readTree(f.detailJson()));
                Output.print(common.json, o, "fused round " + round + " into " + fused);
            }
        }
        return 0;
    }
}
