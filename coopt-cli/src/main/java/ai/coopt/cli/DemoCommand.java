package ai.coopt.cli;

import ai.coopt.data.DatasetSpec;
import ai.coopt.data.KnownDatasets;
import ai.coopt.eval.LinearEvaluation;
import ai.coopt.eval.LinearProbe;
import ai.coopt.target.DataOptimization;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code coopt demo}: the main job on the embedded default, as far as it is built. It locates
 * Fashion-MNIST, scores a randomly initialised {@code convnet-s} with the linear probe (the
 * baseline every method must beat), and optimizes the train split with that random prior into an
 * optimized dataset under {@code --out}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the main job end to end on Fashion-MNIST (what is built so far).")
final class DemoCommand implements Callable<Integer> {
    static final String NOT_BUILT =
            "not built yet: training on optimized data (train, prior pretrain, eval curve), collaboration (collab), the report";
    private static final String PRIOR = "random:convnet-s:0";

    @Option(names = "--out", defaultValue = "runs/demo", description = "Where to write the demo's outputs (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--limit", defaultValue = "0", description = "Use at most N images of each split (0 = all: 60,000 train, 10,000 test).")
    int limit;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        Check.atLeast("--limit", limit, 0);
        var device = common.engine();
        Path datasetDir = out.resolve("optimized-random-convnet-s");
        DataOptimization.checkWritable(datasetDir);
        Output.note("coopt demo: Fashion-MNIST at " + KnownDatasets.fetch("fashion-mnist", null, KnownDatasets.Progress.stderr()));
        DatasetSpec data = DatasetSpec.parse("fashion-mnist");

        Output.note("coopt demo: 1/2 scoring a randomly initialised convnet-s with the linear probe (the baseline to beat)");
        LinearProbe.Settings settings = LinearProbe.Settings.defaults();
        LinearEvaluation.Report probe = LinearEvaluation.run(PRIOR, data, data, limit, settings, device, new CliProgress());

        Output.note("coopt demo: 2/2 optimizing the train split with the prior " + PRIOR);
        DataOptimization.Result made = DataOptimization.run(data, "train", limit, PRIOR, datasetDir,
                DataOptimization.Settings.defaults(), device, new CliProgress(), Provenance.created(0));

        ObjectNode o = Output.object();
        o.set("baseline_probe", EvalCommand.Linear.toJson(probe, settings));
        o.set("optimized_dataset", OptimizeCommand.toJson(made));
        o.put("not_built_yet", NOT_BUILT);
        Output.print(common.json, o, String.format(Locale.ROOT,
                "%nFashion-MNIST, linear probe on frozen features (%d train / %d test images):%n"
                        + "  %-28s top-1 %.2f%%   (chance 10%%)%n"
                        + "Optimized dataset: %s%n"
                        + "  %d targets of dim %d from %s; prior ran at %.0f img/s; uniformity %.3f%n"
                        + "  check it:  ./coopt inspect %s%n"
                        + "  in Python: python3 scripts/read_optimized_dataset.py %s%n%s",
                probe.probe().trainCount(), probe.probe().testCount(), PRIOR, 100 * probe.probe().top1(),
                made.out(), made.count(), made.dim(), made.prior(), made.imagesPerSecond(), made.uniformity(),
                made.out(), made.out(), NOT_BUILT));
        return 0;
    }
}
