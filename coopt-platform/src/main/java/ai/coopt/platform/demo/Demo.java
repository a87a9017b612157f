package ai.coopt.platform.demo;

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
import ai.coopt.prior.Priors;
import ai.coopt.report.TargetMap;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.train.Training;
import ai.coopt.train.TrainingConfig;
import ai.coopt.train.methods.MethodSpec;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The demo: CoOpt's whole story in one use case. Each participant, with its own prior, optimizes disjoint shards —
 * over the network (a platform in this process, one participant process per prior: {@link NetworkedRound}) or in this
 * process ({@link CollaborativeOptimization}); their targets are aligned and fused into one dataset; a student trains
 * on it with ReLA→BYOL and a BYOL baseline trains from scratch on the same budget; both are probed along their
 * learning curves and at the end; t-SNE maps show the targets before and after alignment; {@code report.html} shows it
 * all ({@link DemoReport}).
 */
public final class Demo {
    /** The participants' priors: well, briefly and barely pre-trained, two architectures (priors/README.md). */
    public static final List<String> PRIORS = List.of("zoo:convnet-s-byol-300s", "zoo:resnet-s-byol-90s",
            "zoo:convnet-s-simclr-20s");
    /** The students' architecture. */
    public static final String ARCH = "convnet-s";
    /** Shards of the networked round: more than participants, so a faster participant takes more of them. */
    static final int SHARDS = 6;
    /** Checkpoints per student, each a point of the learning curves. */
    private static final int CURVE_POINTS = 6;

    /**
     * What to run.
     *
     * @param imageSize the images' side when the data is a folder of photos ({@code null}: the reader's default)
     * @param priors one participant each, at least two
     * @param limit images of each split (0 = all)
     * @param curveLimit images of each split for the probes along the learning curves (0 = as {@code limit})
     * @param mapPoints samples per participant in the t-SNE maps
     * @param inProcess the collaboration in this process instead of a platform and participant processes on loopback
     */
    public record Settings(DatasetSpec data, Integer imageSize, List<String> priors, String arch, Path out,
                           double budgetSeconds, int limit, int curveLimit, int mapPoints, long seed, boolean inProcess) {}

    /**
     * Where the demo runs: the engine, progress and one-line notes, how participant processes start, and what the
     * artifacts record as their maker.
     */
    public record Context(Device device, ProgressListener progress, Consumer<String> notes,
                          ParticipantProcesses participants, String version, List<String> commandLine) {
        ManifestProvenance.Created created(long seed) {
            return new ManifestProvenance.Created(Instant.now(), version, commandLine, seed);
        }
    }

    /**
     * What the demo made.
     *
     * @param platform the networked round's final status ({@code null} in process)
     * @param fused the dataset the collaboration wrote, read (and verified) once
     * @param curveLimit images of each split the learning curves' probes used (0 = all)
     * @param report {@code report.html}
     */
    public record Result(CollaborativeOptimization.Result collab, Status platform, Path platformDir, OptimizedDataset fused,
                         Training.Outcome rela, Training.Outcome byol, LinearProbe.Settings probe,
                         LinearEvaluation.Report relaProbe, LinearEvaluation.Report byolProbe, List<LearningCurve> curves,
                         TargetMap.BeforeAfter maps, double budgetSeconds, int curveLimit, List<String> commandLine,
                         String dataName, String arch, Path report) {
        /** CoOpt's overhead over plain optimization: uniformity on S plus the alignment phase. */
        public double overheadSeconds() {
            return collab.uniformitySeconds() + collab.phaseSeconds().get("alignment");
        }

        /** The size of the shared subset S. */
        public int sharedCount() {
            return fused.provenance().alignment().sharedIds().size();
        }

        /** "(reference)", marked unverified when fewer than three independent priors could vouch for it. */
        public String referenceLabel() {
            return collab.referenceVerified() ? "(reference)" : "(reference) unverified";
        }
    }

    private Demo() {}

    /** How the report names the data: Fashion-MNIST and MNIST by name, anything else by its spec. */
    public static String dataName(DatasetSpec data) {
        return switch (data.spec()) {
            case "fashion-mnist" -> "Fashion-MNIST";
            case "mnist" -> "MNIST";
            default -> data.spec();
        };
    }

    /** Runs the demo into {@code s.out()}: outputs of an earlier demo there are replaced, anything else is refused. */
    public static Result run(Settings s, Context context) {
        DatasetSpec data = s.data();
        Path out = s.out();
        Path fused = out.resolve("fused");
        Path relaRun = out.resolve("student-rela");
        Path byolRun = out.resolve("student-byol");
        DataOptimization.checkWritable(fused);
        s.priors().forEach(Priors::check);
        for (Path run : new Path[] {relaRun, byolRun}) {
            deleteRun(run);
        }
        Consumer<String> note = context.notes();
        if (data.spec().equals("fashion-mnist")) {
            note.accept("coopt demo: Fashion-MNIST at " + KnownDatasets.fetch("fashion-mnist", null,
                    KnownDatasets.Progress.stderr()));
        }
        ProgressListener progress = context.progress();
        Device device = context.device();
        long seed = s.seed();
        int limit = s.limit();

        CollaborativeOptimization.Result collab;
        Status platform = null;
        Path platformDir = null;
        if (s.inProcess()) {
            note.accept("coopt demo: 1/6 collaborative optimization in this process: " + s.priors().size()
                    + " participants, ridge alignment");
            collab = CollaborativeOptimization.run(data, "train", limit, s.priors(), fused,
                    new CollaborativeOptimization.Settings(null, null, null, "ridge", 0, 256, seed), device, progress,
                    context.created(seed));
        } else {
            note.accept("coopt demo: 1/6 collaborative optimization over the network: a platform and "
                    + s.priors().size() + " participant processes on loopback, ridge alignment");
            try {
                NetworkedRound.Outcome round = NetworkedRound.run(out, fused, data, s.imageSize(), limit, s.priors(),
                        Math.max(SHARDS, 2 * s.priors().size()), seed, progress, context);
                collab = round.result();
                platform = round.status();
                platformDir = round.platformDir();
            } catch (IOException e) {
                throw new UserException("the networked round failed: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserException("interrupted during the networked round");
            }
        }

        double seconds = s.budgetSeconds();
        double minutes = seconds / 60;
        TrainingConfig config = new TrainingConfig(0, seconds, 128, 1e-3f, 0.01f, seed, 1, seconds / CURVE_POINTS, 1.0,
                Augmentation.Params.defaults());
        note.accept(String.format(Locale.ROOT, "coopt demo: 2/6 student: ReLA->BYOL on the fused dataset, %.1f min",
                minutes));
        Training.Outcome rela = Training.run(new Training.Request(data, "train", limit, fused, s.arch(),
                MethodSpec.of("rela", "byol", null), config, relaRun, false, device, context.created(seed).node()),
                progress);
        note.accept(String.format(Locale.ROOT, "coopt demo: 3/6 baseline: BYOL from scratch on the raw images, %.1f min",
                minutes));
        Training.Outcome byol = Training.run(new Training.Request(data, "train", limit, null, s.arch(),
                MethodSpec.of("byol", null, null), config, byolRun, false, device, context.created(seed).node()),
                progress);

        LinearProbe.Settings probe = LinearProbe.Settings.defaults();
        int curveLimit = s.curveLimit();
        int pointsLimit = curveLimit == 0 ? limit : limit == 0 ? curveLimit : Math.min(limit, curveLimit);
        note.accept("coopt demo: 4/6 learning curves: a linear probe at every checkpoint ("
                + (pointsLimit == 0 ? "all" : pointsLimit) + " images per split)");
        List<LearningCurve> curves = List.of(
                LearningCurve.of(relaRun, data, data, pointsLimit, probe, device, progress),
                LearningCurve.of(byolRun, data, data, pointsLimit, probe, device, progress));

        note.accept("coopt demo: 5/6 final linear probes (frozen features, train split -> test split)");
        ImageSet train = data.load("train", limit);
        ImageSet test = data.load("test", limit);
        LinearEvaluation.Report relaProbe = LinearEvaluation.run("model:" + relaRun, train, test, probe, device, progress);
        LinearEvaluation.Report byolProbe = LinearEvaluation.run("model:" + byolRun, train, test, probe, device, progress);

        note.accept("coopt demo: 6/6 t-SNE maps of the targets before and after alignment, and report.html");
        OptimizedDataset fusedDataset = OptimizedDataset.read(fused);
        TargetMap.BeforeAfter maps = TargetMap.of(fusedDataset, s.mapPoints(), seed);
        Result result = new Result(collab, platform, platformDir, fusedDataset, rela, byol, probe, relaProbe, byolProbe,
                curves, maps, seconds, pointsLimit, context.commandLine(), dataName(data), s.arch(),
                out.resolve("report.html"));
        DemoReport.write(result, out, context.version());
        return result;
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
