package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.data.Augmentation;
import ai.coopt.data.DatasetSpec;
import ai.coopt.data.ImageSet;
import ai.coopt.data.KnownDatasets;
import ai.coopt.eval.LinearEvaluation;
import ai.coopt.eval.LinearProbe;
import ai.coopt.target.DataOptimization;
import ai.coopt.train.Training;
import ai.coopt.train.TrainingConfig;
import ai.coopt.train.methods.MethodSpec;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code coopt demo}: the main job on the embedded default, as far as it is built. On
 * Fashion-MNIST: optimize the train split with a prior, train a student with ReLA→BYOL on the
 * optimized data and a BYOL baseline from scratch on the same short budget, and probe both next to
 * the random-initialisation baseline.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the main job end to end on Fashion-MNIST (what is built so far).")
final class DemoCommand implements Callable<Integer> {
    static final String NOT_BUILT =
            "not built yet: the collaborative demo (coopt collab exists; its benchmarks, shipped priors and the HTML report do not)";
    private static final String PRIOR = "random:convnet-s:0";
    private static final String ARCH = "convnet-s";

    @Option(names = "--out", defaultValue = "runs/demo", description = "Where to write the demo's outputs (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--limit", defaultValue = "0", description = "Use at most N images of each split (0 = all: 60,000 train, 10,000 test).")
    int limit;

    @Option(names = "--seconds", defaultValue = "60", description = "Training budget of each student, in seconds (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--prior", defaultValue = PRIOR, description = "The prior that optimizes the data (default: ${DEFAULT-VALUE}).")
    String prior;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        Check.atLeast("--limit", limit, 0);
        if (!(seconds > 0)) {
            throw new UserException("--seconds must be positive, not " + seconds);
        }
        var device = common.engine();
        Path datasetDir = out.resolve("optimized");
        Path relaRun = out.resolve("student-rela");
        Path byolRun = out.resolve("student-byol");
        DataOptimization.checkWritable(datasetDir);
        for (Path run : new Path[] {relaRun, byolRun}) {
            deleteRun(run);
        }
        Output.note("coopt demo: Fashion-MNIST at " + KnownDatasets.fetch("fashion-mnist", null, KnownDatasets.Progress.stderr()));
        DatasetSpec data = DatasetSpec.parse("fashion-mnist");
        LinearProbe.Settings probe = LinearProbe.Settings.defaults();

        Output.note("coopt demo: 1/4 optimizing the train split with the prior " + prior);
        DataOptimization.Result made = DataOptimization.run(data, "train", limit, prior, datasetDir,
                DataOptimization.Settings.defaults(), device, new CliProgress(), Provenance.created(0));

        TrainingConfig config = new TrainingConfig(0, seconds, 128, 1e-3f, 0.01f, 0, 1, seconds / 4, 1.0,
                Augmentation.Params.defaults());
        Output.note(String.format(Locale.ROOT, "coopt demo: 2/4 training %s students for %.0f s each: ReLA->BYOL on the optimized data", ARCH, seconds));
        Training.Outcome rela = Training.run(new Training.Request(data, "train", limit, datasetDir, ARCH,
                MethodSpec.of("rela", "byol", null), config, relaRun, false, device, Provenance.createdNode(0)), new CliProgress());
        Output.note("coopt demo: 3/4 ... and BYOL from scratch on the raw images");
        Training.Outcome byol = Training.run(new Training.Request(data, "train", limit, null, ARCH,
                MethodSpec.of("byol", null, null), config, byolRun, false, device, Provenance.createdNode(0)), new CliProgress());

        Output.note("coopt demo: 4/4 linear probes (frozen features, train split -> test split)");
        ImageSet train = data.load("train", limit);
        ImageSet test = data.load("test", limit);
        LinearEvaluation.Report random = LinearEvaluation.run(PRIOR, train, test, probe, device, new CliProgress());
        LinearEvaluation.Report relaProbe = LinearEvaluation.run("model:" + relaRun, train, test, probe, device, new CliProgress());
        LinearEvaluation.Report byolProbe = LinearEvaluation.run("model:" + byolRun, train, test, probe, device, new CliProgress());

        ObjectNode o = Output.object();
        o.set("optimized_dataset", OptimizeCommand.toJson(made));
        o.put("budget_seconds", seconds);
        o.set("random_init", EvalCommand.Linear.toJson(random, probe));
        o.set("rela", EvalCommand.Linear.toJson(relaProbe, probe));
        o.set("byol", EvalCommand.Linear.toJson(byolProbe, probe));
        o.put("rela_run", relaRun.toAbsolutePath().toString());
        o.put("byol_run", byolRun.toAbsolutePath().toString());
        o.put("not_built_yet", NOT_BUILT);
        Output.print(common.json, o, String.format(Locale.ROOT,
                "%nFashion-MNIST, %s students, %.0f s of training each; linear probe on frozen features (%d train / %d test):%n"
                        + "  %-44s top-1 %6.2f%%%n"
                        + "  %-44s top-1 %6.2f%%   (%d steps, ended in phase %s)%n"
                        + "  %-44s top-1 %6.2f%%   (%d steps)%n"
                        + "Optimized dataset: %s (%d targets of dim %d from %s, prior at %.0f img/s)%n"
                        + "Runs (loss.png, metrics.jsonl, checkpoints/): %s, %s%n"
                        + "Learning curves: ./coopt eval curve --run %s --run %s --train fashion-mnist --test fashion-mnist --limit 10000%n%s",
                ARCH, seconds, relaProbe.probe().trainCount(), relaProbe.probe().testCount(),
                "random initialisation (no training)", 100 * random.probe().top1(),
                "ReLA->BYOL on data optimized by " + prior, 100 * relaProbe.probe().top1(), rela.result().steps(), rela.result().phase(),
                "BYOL from scratch", 100 * byolProbe.probe().top1(), byol.result().steps(),
                made.out(), made.count(), made.dim(), made.prior(), made.imagesPerSecond(),
                relaRun, byolRun, relaRun, byolRun, NOT_BUILT));
        return 0;
    }

    /** A demo run directory from an earlier demo is replaced; anything else there is refused. */
    private static void deleteRun(Path run) {
        if (!Files.exists(run)) {
            return;
        }
        if (!Files.isRegularFile(run.resolve("metrics.jsonl")) && !isEmpty(run)) {
            throw new UserException(run + " exists and is not a training run; refusing to replace it");
        }
        try (var paths = Files.walk(run)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UserException(run + ": cannot replace the earlier demo run: " + e.getMessage());
        }
    }

    private static boolean isEmpty(Path dir) {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
