package ai.coopt.cli;

import ai.coopt.dataset.DatasetSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Which images a command reads: {@code --data SPEC [--split S] [--limit N [--limit-seed S]]}. */
final class DataOptions {
    @Option(names = "--data", required = true, paramLabel = "SPEC",
            description = "fashion-mnist, mnist, idx:DIR, cifar10:DIR, cifar100:DIR or folder:DIR (PNG/JPEG files, one sub-folder per class or loose).")
    String data;

    @Option(names = "--split", defaultValue = "train", description = "train or test (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--limit", defaultValue = "0", description = "Use a seeded random subset of N samples, stratified by "
            + "class when the data is labelled (0 = all); the same N and --limit-seed give the same subset in every command.")
    int limit;

    @Option(names = "--limit-seed", defaultValue = "0", description = "Seed of the --limit subset (default: ${DEFAULT-VALUE}).")
    long limitSeed;

    @Mixin
    ImageOptions image;

    /** The parsed spec; checks {@code --limit}. */
    DatasetSpec spec() {
        Check.atLeast("--limit", limit, 0);
        return image.apply(DatasetSpec.parse(data)).withLimitSeed(limitSeed).withProgress(new CliProgress());
    }
}
