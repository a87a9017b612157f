package ai.coopt.cli;

import ai.coopt.dataset.DatasetSpec;
import ai.coopt.optimize.DataOptimization;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code coopt optimize}: one participant turns a whole dataset into an optimized dataset. */
@Command(name = "optimize", mixinStandardHelpOptions = true,
        description = "Run a prior over a dataset and write an optimized dataset: targets (PCA to --dim, "
                + "standardised per dimension), ids, the raw prior outputs and a manifest with full provenance.")
final class OptimizeCommand implements Callable<Integer> {
    @Mixin
    DataOptions input;

    @Option(names = "--prior", required = true, paramLabel = "SPEC",
            description = "random:ARCH[:SEED], model:DIR, torchscript:FILE.pt[#METHOD] or onnx:FILE.onnx.")
    String prior;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the optimized dataset (replaced if it is one).")
    Path out;

    @Option(names = "--dim", defaultValue = "0", description = "Target width after PCA (default: the prior's output width, at most 512 and at most the number of images).")
    int dim;

    @Option(names = "--batch", defaultValue = "256", description = "Images per prior call (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the uniformity subset (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    CommonOptions common;

    @Mixin
    PrecisionOption precision;

    @Override
    public Integer call() {
        Check.positive("--batch", batch);
        DatasetSpec spec = input.spec();
        var settings = new DataOptimization.Settings(dim, batch, 1000, seed);
        ai.djl.Device device = common.engine();
        DataOptimization.Result r = DataOptimization.run(spec, input.split, input.limit, prior, out, settings, device,
                precision.choose(device), new CliProgress(), Provenance.created(seed));
        Output.print(common.json, toJson(r), String.format(Locale.ROOT,
                "wrote %s: %d targets of dim %d from %s (output %d; %s)%n"
                        + "  prior: %.0f img/s, %.1f s; PCA + standardisation %.2f s (%.1f%% of variance kept); "
                        + "uniformity %.4f on %d samples; %.1f s in all",
                r.out(), r.count(), r.dim(), r.prior(), r.priorDim(), r.adaptation(), r.imagesPerSecond(),
                r.embedSeconds(), r.pcaSeconds(), 100 * r.explainedVariance(), r.uniformity(), r.uniformitySubset(),
                r.seconds()));
        return 0;
    }

    static ObjectNode toJson(DataOptimization.Result r) {
        ObjectNode o = Output.object();
        o.put("out", r.out().toAbsolutePath().toString());
        o.put("precision", r.precision().label());
        o.put("prior", r.prior());
        o.put("count", r.count());
        o.put("dim", r.dim());
        o.put("prior_dim", r.priorDim());
        o.put("seconds", r.seconds());
        o.put("images_per_s", r.imagesPerSecond());
        o.put("embed_seconds", r.embedSeconds());
        o.put("pca_seconds", r.pcaSeconds());
        o.put("explained_variance", r.explainedVariance());
        o.put("uniformity", r.uniformity());
        o.put("uniformity_subset", r.uniformitySubset());
        o.put("adaptation", r.adaptation());
        o.put("skipped_images", r.skippedImages());
        Output.subset(o, r.subset());
        return o;
    }
}
