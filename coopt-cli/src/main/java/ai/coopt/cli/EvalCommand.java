package ai.coopt.cli;

import ai.coopt.eval.LinearEvaluation;
import ai.coopt.eval.LinearProbe;
import ai.coopt.store.Json;
import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code coopt eval …}: score representations. */
@Command(name = "eval", description = "Evaluate representations.", mixinStandardHelpOptions = true,
        subcommands = {EvalCommand.Linear.class, CurveCommand.class})
final class EvalCommand {

    /** {@code coopt eval linear --model SPEC --train SPEC --test SPEC [--limit N]}. */
    @Command(name = "linear", mixinStandardHelpOptions = true,
            description = "Offline linear probe: frozen features, one linear layer (Adam, lr 3e-4), "
                    + "fitted on the train split of --train, scored on the test split of --test; "
                    + "top1 is the mean of the last three epochs.")
    static final class Linear implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "SPEC",
                description = "A prior spec: random:ARCH[:SEED], model:DIR (a model directory written by coopt), "
                        + "torchscript:FILE.pt[#METHOD] or onnx:FILE.onnx; its outputs are the frozen features.")
        String model;

        @Mixin
        ProbeOptions probe;

        @Mixin
        CommonOptions common;

        @Mixin
        PrecisionOption precision;

        @Override
        public Integer call() {
            LinearProbe.Settings settings = probe.settings();
            Device device = common.engine();
            LinearEvaluation.Report r = LinearEvaluation.run(model, probe.trainSpec(), probe.testSpec(), probe.limit, settings,
                    device, precision.choose(device), new CliProgress());
            Output.print(common.json, toJson(r, settings), String.format(Locale.ROOT,
                    "linear probe top-1 %.2f%% (%s; train %s, %d images; test %s, %d images; %d epochs)",
                    100 * r.probe().top1(), r.model(), r.train(), r.probe().trainCount(), r.test(),
                    r.probe().testCount(), settings.epochs()));
            return 0;
        }

        static ObjectNode toJson(LinearEvaluation.Report r, LinearProbe.Settings settings) {
            ObjectNode o = Output.object();
            o.put("top1", r.probe().top1());
            o.put("model", r.model());
            o.put("train", r.train());
            o.put("test", r.test());
            o.put("train_count", r.probe().trainCount());
            o.put("test_count", r.probe().testCount());
            o.set("train_subset", Json.mapper().valueToTree(r.trainSubset()));
            o.set("test_subset", Json.mapper().valueToTree(r.testSubset()));
            o.put("feature_dim", r.probe().featureDim());
            o.put("classes", r.probe().classes());
            o.put("epochs", settings.epochs());
            o.put("batch", settings.batchSize());
            o.put("learning_rate", settings.learningRate());
            o.put("seed", settings.seed());
            o.put("precision", r.precision().label());
            o.put("feature_seconds", r.featureSeconds());
            o.put("probe_seconds", r.probe().seconds());
            ArrayNode curve = o.putArray("test_top1_per_epoch");
            r.probe().testAccuracyPerEpoch().forEach(curve::add);
            return o;
        }
    }
}
