package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.data.Augmentation;
import ai.coopt.data.ImageSet;
import ai.coopt.data.KnownDatasets;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.eval.LearningCurve;
import ai.coopt.eval.LinearEvaluation;
import ai.coopt.eval.LinearProbe;
import ai.coopt.optimize.DataOptimization;
import ai.coopt.platform.api.Status;
import ai.coopt.report.TargetMap;
import ai.coopt.store.OptimizedDataset;
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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code coopt demo}: CoOpt's whole story, on Fashion-MNIST with three priors the project ships unless {@code --data},
 * {@code --priors} and {@code --arch} say otherwise. Each participant, with its own prior, optimizes disjoint shards;
 * their targets are aligned and fused into one dataset; a student trains on it with ReLA→BYOL and a BYOL baseline
 * trains from scratch on the same budget; both are probed; {@code report.html} shows the results.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the main job end to end (by default on Fashion-MNIST with three shipped priors): collaborative "
                + "optimization, one participant per prior, a ReLA->BYOL student on the fused dataset against BYOL from "
                + "scratch on the same budget, linear probes, and a self-contained report.html.")
final class DemoCommand implements Callable<Integer> {
    /** The participants' priors: well, briefly and barely pre-trained, two architectures (priors/README.md). */
    static final List<String> PRIORS = List.of("zoo:convnet-s-byol-300s", "zoo:resnet-s-byol-90s", "zoo:convnet-s-simclr-20s");
    static final String ARCH = "convnet-s";
    /** Shards of the networked round: more than participants, so a faster participant takes more of them. */
    static final int SHARDS = 6;
    /** Checkpoints per student, each a point of the learning curves. */
    private static final int CURVE_POINTS = 6;

    @Option(names = "--data", defaultValue = "fashion-mnist", paramLabel = "SPEC", description = "The data, with a train and "
            + "a test split, labelled (the probes need labels): any dataset spec (default: ${DEFAULT-VALUE}).")
    String dataSpec;

    @Option(names = "--priors", split = ",", paramLabel = "SPEC", description = "The participants' priors, one participant "
            + "each, at least two (default: the three shipped Fashion-MNIST priors).")
    List<String> priors;

    @Option(names = "--arch", defaultValue = ARCH, description = "The students' architecture (default: ${DEFAULT-VALUE}).")
    String arch;

    @Mixin
    ImageOptions image;

    @Option(names = "--out", defaultValue = "runs/demo", description = "Where to write the demo's outputs (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--minutes", defaultValue = "3", description = "Training minutes of each student (default: ${DEFAULT-VALUE}; "
            + "the whole demo takes about 2 x M + 4 minutes on 2 cores).")
    double minutes;

    @Option(names = "--limit", defaultValue = "0", description = "Use a stratified random subset of at most N images of "
            + "each split (0 = all: 60,000 train and 10,000 test for Fashion-MNIST).")
    int limit;

    @Option(names = "--curve-limit", defaultValue = "10000",
            description = "Images of each split for the probes along the learning curves (default: ${DEFAULT-VALUE}; the final probes use all).")
    int curveLimit;

    @Option(names = "--map-points", defaultValue = "400", description = "Samples per participant in the t-SNE maps (default: ${DEFAULT-VALUE}).")
    int mapPoints;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds the shards, the students and the maps (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--in-process", description = "Run the collaboration inside this process (coopt collab's path) instead of "
            + "a platform and participant processes on loopback.")
    boolean inProcess;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        if (!(minutes > 0) || minutes > 24 * 60) {
            throw new UserException("--minutes must be positive (and at most a day), not " + minutes);
        }
        Check.atLeast("--limit", limit, 0);
        Check.atLeast("--curve-limit", curveLimit, 0);
        Check.atLeast("--map-points", mapPoints, 2);
        List<String> participants = priors == null || priors.isEmpty() ? PRIORS : List.copyOf(priors);
        if (participants.size() < 2) {
            throw new UserException("--priors needs at least two priors (one participant each), not " + participants.size());
        }
        DatasetSpec data = image.apply(DatasetSpec.parse(dataSpec));
        if (!ai.coopt.nn.Architectures.names().contains(arch)) {
            throw new UserException("unknown architecture '" + arch + "': choose one of "
                    + String.join(", ", ai.coopt.nn.Architectures.names()));
        }
        double seconds = 60 * minutes;
        var device = common.engine();
        Path fused = out.resolve("fused");
        Path relaRun = out.resolve("student-rela");
        Path byolRun = out.resolve("student-byol");
        DataOptimization.checkWritable(fused);
        participants.forEach(ai.coopt.prior.Priors::check);
        for (Path run : new Path[] {relaRun, byolRun}) {
            deleteRun(run);
        }
        if (data.spec().equals("fashion-mnist")) {
            Output.note("coopt demo: Fashion-MNIST at " + KnownDatasets.fetch("fashion-mnist", null, KnownDatasets.Progress.stderr()));
        }
        String name = DemoReport.dataName(data);
        CliProgress progress = new CliProgress();

        CollaborativeOptimization.Result collab;
        Status platform = null;
        if (inProcess) {
            Output.note("coopt demo: 1/6 collaborative optimization in this process: " + participants.size()
                    + " participants, ridge alignment");
            collab = CollaborativeOptimization.run(data, "train", limit, participants, fused,
                    new CollaborativeOptimization.Settings(null, null, null, "ridge", 0, 256, seed), device, progress,
                    Provenance.created(seed));
        } else {
            Output.note("coopt demo: 1/6 collaborative optimization over the network: a platform and " + participants.size()
                    + " participant processes on loopback, ridge alignment");
            try {
                NetworkedRound.Outcome round = NetworkedRound.run(out, fused, data, image.imageSize, limit,
                        participants, Math.max(SHARDS, 2 * participants.size()), seed, progress);
                collab = round.result();
                platform = round.status();
            } catch (IOException e) {
                throw new UserException("the networked round failed: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserException("interrupted during the networked round");
            }
        }

        TrainingConfig config = new TrainingConfig(0, seconds, 128, 1e-3f, 0.01f, seed, 1, seconds / CURVE_POINTS, 1.0,
                Augmentation.Params.defaults());
        Output.note(String.format(Locale.ROOT, "coopt demo: 2/6 student: ReLA->BYOL on the fused dataset, %.1f min", minutes));
        Training.Outcome rela = Training.run(new Training.Request(data, "train", limit, fused, arch,
                MethodSpec.of("rela", "byol", null), config, relaRun, false, device, Provenance.createdNode(seed)), progress);
        Output.note(String.format(Locale.ROOT, "coopt demo: 3/6 baseline: BYOL from scratch on the raw images, %.1f min", minutes));
        Training.Outcome byol = Training.run(new Training.Request(data, "train", limit, null, arch,
                MethodSpec.of("byol", null, null), config, byolRun, false, device, Provenance.createdNode(seed)), progress);

        LinearProbe.Settings probe = LinearProbe.Settings.defaults();
        int pointsLimit = curveLimit == 0 ? limit : limit == 0 ? curveLimit : Math.min(limit, curveLimit);
        Output.note("coopt demo: 4/6 learning curves: a linear probe at every checkpoint ("
                + (pointsLimit == 0 ? "all" : pointsLimit) + " images per split)");
        List<LearningCurve> curves = List.of(
                LearningCurve.of(relaRun, data, data, pointsLimit, probe, device, progress),
                LearningCurve.of(byolRun, data, data, pointsLimit, probe, device, progress));

        Output.note("coopt demo: 5/6 final linear probes (frozen features, train split -> test split)");
        ImageSet train = data.load("train", limit);
        ImageSet test = data.load("test", limit);
        LinearEvaluation.Report relaProbe = LinearEvaluation.run("model:" + relaRun, train, test, probe, device, progress);
        LinearEvaluation.Report byolProbe = LinearEvaluation.run("model:" + byolRun, train, test, probe, device, progress);

        Output.note("coopt demo: 6/6 t-SNE maps of the targets before and after alignment, and report.html");
        OptimizedDataset fusedDataset = OptimizedDataset.read(fused);
        TargetMap.BeforeAfter maps = TargetMap.of(fusedDataset, mapPoints, seed);
        DemoReport.Inputs inputs = new DemoReport.Inputs(collab, fusedDataset, rela, byol, relaProbe, byolProbe, curves, maps, seconds,
                pointsLimit, Main.commandLine(), platform, name, arch);
        Path report = DemoReport.write(inputs, out);

        ObjectNode o = Output.object();
        o.set("collab", CollabCommand.toJson(collab, "ridge"));
        if (platform != null) {
            ObjectNode pl = o.putObject("platform");
            pl.put("shards", platform.shards().size());
            pl.put("shards_accepted", platform.shardsByState().getOrDefault("accepted", 0));
            pl.put("participants", platform.participants().size());
            pl.put("events", platform.events().size());
            pl.put("audits", platform.audits().size());
            pl.put("audits_passed", platform.audits().stream().filter(a -> a.state().equals("passed")).count());
            pl.put("quarantined", platform.participants().stream().filter(p -> p.quarantined() != null).count());
            pl.put("dir", out.resolve("platform").toAbsolutePath().toString());
        }
        o.put("budget_seconds", seconds);
        o.set("rela", student(rela, relaProbe, probe));
        o.set("byol", student(byol, byolProbe, probe));
        double overhead = DemoReport.overheadSeconds(collab);
        o.put("overhead_seconds", overhead);
        o.put("overhead_fraction_of_training", overhead / rela.result().trainSeconds());
        o.put("map_seconds", maps.seconds());
        o.put("report", report.toAbsolutePath().toString());
        Output.print(common.json, o, DemoReport.summary(inputs, report));
        return 0;
    }

    private static ObjectNode student(Training.Outcome run, LinearEvaluation.Report probe, LinearProbe.Settings settings) {
        ObjectNode o = EvalCommand.Linear.toJson(probe, settings);
        o.put("run", run.run().toAbsolutePath().toString());
        o.put("steps", run.result().steps());
        o.put("train_seconds", run.result().trainSeconds());
        o.put("final_phase", run.result().phase());
        return o;
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
