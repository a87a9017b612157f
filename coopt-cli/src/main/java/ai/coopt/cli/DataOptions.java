package ai.coopt.cli;

import ai.coopt.data.DatasetSpec;
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

    @Option(names = "--image-size", paramLabel = "S", description = "folder: images are resized by the shorter side and "
            + "centre-cropped to SxS (default: 64).")
    Integer imageSize;

    @Option(names = "--skip-bad-images", description = "folder: skip (and count) files that cannot be decoded instead of failing.")
    boolean skipBadImages;

    /** The parsed spec; checks {@code --limit}. */
    DatasetSpec spec() {
        Check.atLeast("--limit", limit, 0);
        return DatasetSpec.parse(data).withImageOptions(imageSize, skipBadImages).withProgress(new CliProgress());
    }
}
