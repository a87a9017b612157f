package ai.coopt.cli;

import ai.coopt.data.DatasetSpec;
import ai.coopt.data.KnownDatasets;
import ai.coopt.eval.LinearEvaluation;
import ai.coopt.eval.LinearProbe;
import ai.coopt.eval.ModelSpec;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code coopt demo}: the main job on the embedded default. At this stage of the project it
 * locates Fashion-MNIST and scores a randomly initialised {@code convnet-s} with the linear probe:
 * the baseline every later method must beat.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the main job end to end on Fashion-MNIST (what is built so far).")
final class DemoCommand implements Callable<Integer> {
    static final String NOT_BUILT =
            "not built yet: priors and target generation (optimize), training on optimized data (train), collaboration (collab), the report";

    @Option(names = "--limit", defaultValue = "0", description = "Use at most N images of each split (0 = all: 60,000 train, 10,000 test).")
    int limit;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        Check.atLeast("--limit", limit, 0);
        var device = common.engine();
        Output.note("coopt demo: Fashion-MNIST at " + KnownDatasets.fetch("fashion-mnist", null, KnownDatasets.Progress.stderr()));
        Output.note("coopt demo: scoring a randomly initialised convnet-s with the linear probe (the baseline to beat)");
        DatasetSpec data = DatasetSpec.parse("fashion-mnist");
        LinearProbe.Settings settings = LinearProbe.Settings.defaults();
        LinearEvaluation.Report r = LinearEvaluation.run(ModelSpec.parse("random:convnet-s"), data, data, limit,
                settings, device, new CliProgress());
        ObjectNode o = EvalCommand.Linear.toJson(r, settings);
        o.put("not_built_yet", NOT_BUILT);
        Output.print(common.json, o, String.format(Locale.ROOT,
                "%nFashion-MNIST, linear probe on frozen features (%d train / %d test images):%n"
                        + "  %-34s top-1 %.2f%%   (chance 10%%)%n%s",
                r.probe().trainCount(), r.probe().testCount(), "random convnet-s (seed 0)", 100 * r.probe().top1(),
                NOT_BUILT));
        return 0;
    }
}
