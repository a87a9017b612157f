package ai.coopt.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** How a collaboration fuses (shared by {@code coopt collab} and {@code coopt rounds}): S, alignment, width, batch. */
final class FusionOptions {
    static final String ALIGN_HELP = "ridge (the paper's: every prior mapped onto the most uniform one by ridge regression "
            + "fitted on S), pca (no map: each participant's outputs PCA'd to a common width and standardised in their own "
            + "space) or none (no map: outputs fused as produced, PCA'd to a common width only when widths differ); "
            + "default: ${DEFAULT-VALUE}.";

    /** Exactly one way of sizing S. */
    static final class Shared {
        @Option(names = "--shared-fraction", description = "Size of S as a share of the data (default: 0.01, where accuracy stopped improving in the benchmark).")
        Double fraction;

        @Option(names = "--shared-count", description = "Size of S in samples.")
        Integer count;
    }

    @ArgGroup(exclusive = true, heading = "The shared subset S (one of):%n")
    Shared shared = new Shared();

    @Option(names = "--align", defaultValue = "ridge", description = ALIGN_HELP)
    String align;

    @Option(names = "--dim", defaultValue = "0", description = "Target width after fusion (default: the reference's width, at most 512, within the rank).")
    int dim;

    @Option(names = "--batch", defaultValue = "256", description = "Images per prior call (default: ${DEFAULT-VALUE}).")
    int batch;

    /** S as a share of the data, or null when given as a count or not at all. */
    Double fraction() {
        return shared == null ? null : shared.fraction;
    }

    /** S in samples, or null. */
    Integer count() {
        return shared == null ? null : shared.count;
    }
}
