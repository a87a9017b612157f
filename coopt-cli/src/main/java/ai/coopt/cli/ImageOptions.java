package ai.coopt.cli;

import ai.coopt.dataset.DatasetSpec;
import picocli.CommandLine.Option;

/** How image files are read: {@code [--image-size S] [--skip-bad-images]} (folder: datasets). */
final class ImageOptions {
    @Option(names = "--image-size", paramLabel = "S", description = "folder: images are resized by the shorter side and "
            + "centre-cropped to SxS (default: the images' own size when they all share one, else 64).")
    Integer imageSize;

    @Option(names = "--skip-bad-images", description = "folder: skip (and count) files that cannot be decoded instead of failing.")
    boolean skipBadImages;

    /** {@code spec} read with these options. */
    DatasetSpec apply(DatasetSpec spec) {
        return spec.withImageOptions(imageSize, skipBadImages);
    }
}
