package ai.coopt.cli;

import ai.coopt.data.DatasetSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Which images a command reads: {@code --data SPEC [--split S] [--limit N]}. */
final class DataOptions {
    @Option(names = "--data", required = true, paramLabel = "SPEC",
            description = "fashion-mnist, mnist, idx:DIR, cifar10:DIR, cifar100:DIR or folder:DIR (PNG/JPEG files, one sub-folder per class or loose).")
    String data;

    @Option(names = "--split", defaultValue = "train", description = "train or test (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--limit", defaultValue = "0", description = "Use the first N samples (0 = all).")
    int limit;

    @Mixin
    ImageOptions image;

    /** The parsed spec; checks {@code --limit}. */
    DatasetSpec spec() {
        Check.atLeast("--limit", limit, 0);
        return image.apply(DatasetSpec.parse(data)).withProgress(new CliProgress());
    }
}
