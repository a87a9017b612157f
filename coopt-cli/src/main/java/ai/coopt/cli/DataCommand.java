package ai.coopt.cli;

import ai.coopt.data.ImageSet;
import ai.coopt.data.KnownDatasets;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.PackedImages;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code coopt data …}: dataset management. */
@Command(name = "data", description = "Locate or download datasets.", mixinStandardHelpOptions = true,
        subcommands = {DataCommand.Fetch.class, DataCommand.Pack.class})
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

    /** {@code coopt data pack --data SPEC --out DIR [--shard-images N]}. */
    @Command(name = "pack", mixinStandardHelpOptions = true,
            description = "Pack a dataset's images into safetensors shards (coopt-packed-images/1) that packed:DIR reads "
                    + "from disk on demand and numpy reads with no project code.")
    static final class Pack implements Callable<Integer> {
        @Mixin
        DataOptions input;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "The packed directory to write.")
        Path out;

        @Option(names = "--shard-images", defaultValue = "10000", description = "Images per shard (default: ${DEFAULT-VALUE}).")
        int shardImages;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            Check.positive("--shard-images", shardImages);
            DatasetSpec spec = input.spec();
            AtomicFiles.checkWritable(out, PackedImages.KIND);
            long t0 = System.nanoTime();
            ImageSet images = spec.load(input.split, input.limit);
            var m = PackedImages.write(out, images, spec.spec(), input.split, shardImages,
                    Provenance.created(0), new CliProgress());
            double seconds = (System.nanoTime() - t0) / 1e9;
            ObjectNode result = Output.object();
            result.put("out", out.toAbsolutePath().toString());
            result.put("count", m.count());
            Output.subset(result, m.source().subset());
            result.put("shape", m.channels() + "x" + m.height() + "x" + m.width());
            result.put("shards", m.shards().size());
            result.put("labelled", m.labelled());
            result.put("fingerprint", m.source().fingerprint());
            result.put("skipped_images", m.source().skippedImages());
            result.put("seconds", seconds);
            Output.print(common.json, result, String.format(Locale.ROOT,
                    "wrote %s: %d images of %s in %d shard(s); %.1f s", out, m.count(), result.get("shape").asText(),
                    m.shards().size(), seconds));
            return 0;
        }
    }
}
