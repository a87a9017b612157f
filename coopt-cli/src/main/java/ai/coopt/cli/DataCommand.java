package ai.coopt.cli;

import ai.coopt.data.KnownDatasets;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code coopt data …}: dataset management. */
@Command(name = "data", description = "Locate or download datasets.", mixinStandardHelpOptions = true,
        subcommands = DataCommand.Fetch.class)
final class DataCommand {

    /** {@code coopt data fetch NAME [--dir DIR]}. */
    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = "Locate a known dataset (fashion-mnist, mnist) on this machine, or download it with checksum verification; prints its path.")
    static final class Fetch implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "fashion-mnist or mnist")
        String name;

        @Option(names = "--dir", paramLabel = "DIR", description = "Download into DIR instead of ~/.cache/coopt/NAME.")
        Path dir;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            Path found = dir == null ? KnownDatasets.locate(name) : null;
            Path path = found != null ? found : KnownDatasets.fetch(name, dir, KnownDatasets.Progress.stderr());
            ObjectNode result = Output.object();
            result.put("name", name);
            result.put("path", path.toString());
            result.put("found_locally", found != null);
            Output.print(common.json, result, path.toString());
            return 0;
        }
    }
}
