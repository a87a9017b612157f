package ai.coopt.rounds;

import ai.coopt.Setting;
import ai.coopt.UserException;
import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.collab.Alignment;
import ai.coopt.data.ImageSet;
import ai.coopt.engine.Precision;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.eval.LinearEvaluation;
import ai.coopt.eval.LinearProbe;
import ai.coopt.nn.Architectures;
import ai.coopt.optimize.Embedder;
import ai.coopt.optimize.Uniformity;
import ai.coopt.prior.Prior;
import ai.coopt.prior.Priors;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Json;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.train.Training;
import ai.coopt.train.TrainingConfig;
import ai.coopt.train.methods.MethodSpec;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static ai.coopt.Setting.OUT;
import static ai.coopt.Setting.PRIORS;
import static ai.coopt.Setting.PROBE_LIMIT;
import static ai.coopt.Setting.ROUNDS;
import static ai.coopt.Setting.SHARED_COUNT;
import static ai.coopt.Setting.SHARED_FRACTION;
import static ai.coopt.Setting.STUDENT_ARCH;
import static ai.coopt.Setting.STUDENT_BUDGET_SECONDS;
import static ai.coopt.Setting.STUDENT_EPOCHS;

/**
 * Continuous optimization (the CoOpt paper's rounds): round 0 is a collaboration with the given priors; each round
 * trains a student (ReLA, then its hand-off) on that round's fused dataset and probes it; the student joins the prior
 * set of the next round ({@code keep all}), or the set keeps the K best by uniformity on S ({@code keep best}, K the
 * number of priors given); a prior the previous round's screening excluded is not kept in either case. Each round lives in {@code DIR/round-NNN/} (fused {@code dataset/}, {@code student/} run,
 * {@code round.json} written last); a run killed at any point continues where it stopped: finished rounds are read
 * back, a fused dataset on disk is kept, the student resumes from its newest checkpoint (byte-identical weights), and
 * the probe runs again (deterministic). {@code DIR/rounds.json} holds the settings; a rerun with other settings (apart
 * from more or fewer rounds) is refused; {@code DIR/created.json} records the first command's time, tool version and
 * command line (each dataset and student records its own).
 */
public final class ContinuousOptimization {
    /** The format of {@code rounds.json}. */
    public static final String FORMAT = "coopt-rounds/1";
    /** What the prior set keeps from one round to the next. */
    public static final List<String> KEEP = List.of("best", "all");
    static final String SETTINGS = "rounds.json";
    static final String ROUND = "round.json";
    static final String CREATED = "created.json";

    /**
     * Everything that decides a round's results: a rerun into the same directory must give the same settings.
     *
     * @param limit a seeded random subset of this many training samples, stratified by class (0 = all); the probes draw
     *              theirs with the same seed
     * @param limitSeed the seed of those subsets
     * @param keep {@code best} or {@code all}
     * @param sharedFraction size of S as a share of the data (0 when {@code sharedCount} is given)
     * @param sharedCount size of S in samples (0 when {@code sharedFraction} is given)
     * @param then the student's hand-off method after ReLA ({@code none} for ReLA alone)
     * @param switchAt the share of the run at which ReLA hands off, or 0 for the adaptive rule
     * @param studentEpochs epochs of each student (0 when {@code studentBudgetSeconds} is given)
     * @param studentBudgetSeconds training seconds of each student (0 when {@code studentEpochs} is given); a student
     *                             trained by time takes as many steps as the machine allows, so only epochs make a
     *                             resumed run end exactly as an uninterrupted one
     * @param probeLimit images of each split for the probes (0 = all)
     * @param precision what the priors, the students and the probes compute in ({@link Precision#label}, chosen before:
     *                  never {@code auto}); rounds written before it was recorded read as fp32
     */
    public record Settings(String format, String data, int limit, long limitSeed, List<String> priors, String keep, String align,
                           double sharedFraction, int sharedCount, int dim, int batch, long seed, String studentArch,
                           String then, double switchAt, int studentEpochs, double studentBudgetSeconds,
                           int studentBatch, float studentLearningRate, float studentWeightDecay,
                           double studentCheckpointEverySeconds, int probeLimit, String precision) {
        /** What the networks compute in. */
        public Precision computeIn() {
            return Precision.ofLabel(precision);
        }
    }

    /**
     * A prior offered to a round: from round 1, by uniformity on the previous round's S (lower = more uniform); in
     * round 0, which takes every prior given, its uniformity on the round's own S.
     */
    public record Candidate(String prior, double uniformity, boolean kept) {}

    /**
     * One participant of a round's collaboration.
     *
     * @param fused whether its outputs were fused (the screening trusted it)
     * @param residual its alignment's fit residual on S (0 for the reference and for a participant not fused)
     * @param note why it was not fused; for the reference, "unverified: …" when fewer than three independent priors
     *             remained to vouch for it ({@link ai.coopt.collab.Screening.Result#referenceVerified}); else empty
     */
    public record Participant(String prior, double uniformity, boolean fused, boolean reference, double residual,
                              String note) {}

    /** The reference's note when the screening could not verify it. */
    public static final String UNVERIFIED = "unverified: fewer than three independent priors remained to vouch for it";

    /**
     * A finished round ({@code round.json}).
     *
     * @param dataset, student paths relative to the rounds directory
     * @param seconds this process's wall time on the round (a resumed round counts only what the last process did)
     */
    public record Round(int round, List<Candidate> candidates, List<Participant> participants, String dataset,
                        String targetsSha256, int count, int dim, String student, String studentWeightsSha256,
                        long studentSeed, long studentSteps, double studentTrainSeconds, String studentPhase,
                        double probeTop1, int probeTrain, int probeTest, double collabSeconds, double trainSeconds,
                        double probeSeconds, double seconds, boolean resumed) {
        /** The priors that took part. */
        public List<String> priors() {
            return participants.stream().map(Participant::prior).toList();
        }
    }

    /** All rounds so far, and how many of them this process read back instead of running. */
    public record Result(Path dir, Settings settings, List<Round> rounds, int roundsReadBack, double seconds) {}

    /**
     * @param rounds how many rounds there are to be in all (finished ones are read back)
     * @param createdNode a model directory's provenance start for a given seed
     * @param log one line at a time about what happens (stderr in the CLI)
     * @param onRound called after each round with the rounds so far (e.g. to rewrite a report)
     */
    public record Request(DatasetSpec data, Settings settings, int rounds, Path dir, Device device,
                          ManifestProvenance.Created created, LongFunction<ObjectNode> createdNode, Consumer<String> log,
                          Consumer<List<Round>> onRound) {
        /** The data is drawn with the settings' {@code --limit} seed, the one {@code rounds.json} records. */
        public Request {
            data = data.withLimitSeed(settings.limitSeed());
        }
    }

    private ContinuousOptimization() {}

    /** Refuses settings that cannot run, with one line, before any work. */
    public static void check(Settings s, int rounds) {
        if (rounds < 1) {
            throw new UserException(names -> names.of(ROUNDS) + " must be at least 1, not " + rounds);
        }
        if (!KEEP.contains(s.keep())) {
            throw new UserException(names -> names.of(Setting.KEEP) + " must be one of " + String.join(", ", KEEP)
                    + ", not '" + s.keep() + "'");
        }
        Alignment.named(s.align());
        if (new LinkedHashSet<>(s.priors()).size() < 2) {
            throw new UserException(names -> names.of(PRIORS)
                    + " must name at least two different priors: a round is a collaboration, "
                    + "and the students join a set of priors (got " + s.priors().size() + ": " + String.join(",", s.priors()) + ")");
        }
        s.priors().forEach(Priors::check);
        if (!Architectures.names().contains(s.studentArch())) {
            throw new UserException(names -> names.of(STUDENT_ARCH) + " must be one of "
                    + String.join(", ", Architectures.names()) + ", not '"
                    + s.studentArch() + "'");
        }
        if ((s.studentEpochs() > 0) == (s.studentBudgetSeconds() > 0) || s.studentEpochs() < 0 || s.studentBudgetSeconds() < 0) {
            throw new UserException(names -> "give exactly one of " + names.of(STUDENT_EPOCHS) + " N and "
                    + names.of(STUDENT_BUDGET_SECONDS) + " S (positive)");
        }
        if (s.sharedCount() == 0 && !(s.sharedFraction() > 0 && s.sharedFraction() < 1)) {
            throw new UserException(names -> names.of(SHARED_FRACTION) + " must lie strictly between 0 and 1, not "
                    + s.sharedFraction());
        }
        if (s.sharedCount() != 0 && s.sharedCount() < 3) {
            throw new UserException(names -> names.of(SHARED_COUNT)
                    + " must be at least 3 (alignment needs them), not " + s.sharedCount());
        }
        if (s.probeLimit() < 0) {
            throw new UserException(names -> names.of(PROBE_LIMIT) + " must be 0 (all) or positive, not "
                    + s.probeLimit());
        }
        method(s);
        config(s, 0);
        s.computeIn();
    }

    /** The student's method: ReLA, then {@code then} (checked like {@code coopt train --then}). */
    static MethodSpec method(Settings s) {
        return MethodSpec.of(MethodSpec.RELA, s.then(), s.switchAt() > 0 ? s.switchAt() : null);
    }

    /** Round {@code round}'s student training: the settings' budget, seeded by the seed and the round. */
    static TrainingConfig config(Settings s, int round) {
        return new TrainingConfig(s.studentEpochs(), s.studentBudgetSeconds(), s.studentBatch(), s.studentLearningRate(),
                s.studentWeightDecay(), studentSeed(s, round), 1, s.studentCheckpointEverySeconds(), 1.0,
                ai.coopt.data.Augmentation.Params.defaults());
    }

    static long studentSeed(Settings s, int round) {
        return s.seed() + 1000L * (round + 1);
    }

    /** The directory of round {@code r}. */
    public static Path roundDir(Path dir, int r) {
        return dir.resolve(String.format(Locale.ROOT, "round-%03d", r));
    }

    public static Result run(Request request, ProgressListener progress) {
        long t0 = System.nanoTime();
        Settings s = request.settings();
        check(s, request.rounds());
        Path dir = request.dir();
        openDirectory(dir, s, request.created());
        List<Round> done = new ArrayList<>();
        int readBack = 0;
        for (int r = 0; r < request.rounds(); r++) {
            Path file = roundDir(dir, r).resolve(ROUND);
            if (Files.isRegularFile(file)) {
                done.add(Json.read(file, Round.class, Map.of()));
                readBack++;
                request.log().accept("round " + r + ": finished earlier, read back (" + file + ")");
                continue;
            }
            done.add(runRound(request, r, done, progress));
            request.onRound().accept(List.copyOf(done));
        }
        if (readBack == request.rounds()) {
            request.onRound().accept(List.copyOf(done));
        }
        return new Result(dir, s, List.copyOf(done), readBack, (System.nanoTime() - t0) / 1e9);
    }

    /** Creates {@code dir} with its settings, or checks that the settings it holds are these (the rounds aside). */
    private static void openDirectory(Path dir, Settings s, ManifestProvenance.Created created) {
        Path file = dir.resolve(SETTINGS);
        if (Files.isRegularFile(file)) {
            Settings earlier = Json.read(file, Settings.class,
                    Map.of("/precision", TextNode.valueOf(Precision.FP32.label())));
            if (!earlier.equals(s)) {
                throw new UserException(names -> dir + " holds rounds run with other settings (" + SETTINGS + "): "
                        + differences(earlier, s) + "; resume with the same options or choose another "
                        + names.of(OUT));
            }
            return;
        }
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                throw new UserException(names -> dir + " exists and is not a directory; choose another "
                        + names.of(OUT));
            }
            try (Stream<Path> entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new UserException(names -> dir + " exists, is not empty and holds no " + SETTINGS
                            + ": not a rounds directory; choose another " + names.of(OUT));
                }
            } catch (IOException e) {
                throw new UserException(dir + ": cannot list: " + e.getMessage());
            }
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UserException(dir + ": cannot create: " + e.getMessage());
        }
        // where the rounds came from: when, which tool, which command line (the settings file is compared on reruns)
        AtomicFiles.writeJson(dir.resolve(CREATED), created);
        AtomicFiles.writeJson(file, s);
    }

    /** The settings' fields that differ, as "name: earlier -> now". */
    private static String differences(Settings earlier, Settings now) {
        ObjectNode a = Json.mapper().valueToTree(earlier);
        ObjectNode b = Json.mapper().valueToTree(now);
        List<String> out = new ArrayList<>();
        a.fieldNames().forEachRemaining(f -> {
            if (!a.get(f).equals(b.get(f))) {
                out.add(f + ": " + a.get(f) + " -> " + b.get(f));
            }
        });
        return String.join(", ", out);
    }

    private static Round runRound(Request request, int r, List<Round> before, ProgressListener progress) {
        long t0 = System.nanoTime();
        Settings s = request.settings();
        Path dir = request.dir();
        Path roundDir = roundDir(dir, r);
        Path dataset = roundDir.resolve("dataset");
        Path student = roundDir.resolve("student");
        List<Candidate> offered = r == 0 ? null : candidates(request, r, before);
        List<String> priors = r == 0 ? s.priors() : offered.stream().filter(Candidate::kept).map(Candidate::prior).toList();

        // 1. the collaboration (kept when an earlier process wrote it with the same priors: writes are atomic)
        long p = System.nanoTime();
        CollabOutcome collab = collaborate(request, r, priors, dataset, progress);
        double collabSeconds = (System.nanoTime() - p) / 1e9;
        List<Candidate> candidates = offered != null ? offered
                : collab.participants().stream().map(c -> new Candidate(c.prior(), c.uniformity(), true)).toList();

        // 2. the student, resumed from its newest checkpoint when an earlier process was cut short
        p = System.nanoTime();
        boolean resume = Training.resumable(student);
        if (!resume) {
            AtomicFiles.deleteTree(student, false);
        }
        request.log().accept(String.format(Locale.ROOT, "round %d: student %s, ReLA -> %s on %s%s", r, s.studentArch(), s.then(),
                dir.relativize(dataset), resume ? " (resuming)" : ""));
        Training.Outcome trained = Training.run(new Training.Request(request.data(), "train", s.limit(), dataset,
                s.studentArch(), method(s), config(s, r), student, resume, request.device(),
                request.createdNode().apply(studentSeed(s, r)), s.computeIn()), progress);
        double trainSeconds = (System.nanoTime() - p) / 1e9;

        // 3. the probe
        p = System.nanoTime();
        request.log().accept("round " + r + ": linear probe of the student");
        ImageSet train = request.data().load("train", s.probeLimit());
        ImageSet test = request.data().load("test", s.probeLimit());
        LinearEvaluation.Report probe = LinearEvaluation.run("model:" + student, train, test,
                LinearProbe.Settings.defaults(), request.device(), s.computeIn(), progress);
        double probeSeconds = (System.nanoTime() - p) / 1e9;

        Round round = new Round(r, candidates, collab.participants(), dir.relativize(dataset).toString(),
                collab.targetsSha256(), collab.count(), collab.dim(), dir.relativize(student).toString(),
                weightsSha256(student), studentSeed(s, r), trained.result().steps(), trained.result().trainSeconds(),
                trained.result().phase(), probe.probe().top1(), probe.probe().trainCount(), probe.probe().testCount(),
                collabSeconds, trainSeconds, probeSeconds, (System.nanoTime() - t0) / 1e9, collab.readBack() || resume);
        AtomicFiles.writeJson(roundDir.resolve(ROUND), round);
        request.log().accept(String.format(Locale.ROOT, "round %d: student probe top-1 %.2f%% (%d steps); %.1f s", r,
                100 * round.probeTop1(), round.studentSteps(), round.seconds()));
        return round;
    }

    /**
     * The priors offered to round {@code r}: the given ones in round 0; then the previous round's priors and its student,
     * ranked by uniformity on the previous round's S, and with {@code keep best} only the K most uniform kept.
     */
    private static List<Candidate> candidates(Request request, int r, List<Round> before) {
        Settings s = request.settings();
        Round last = before.get(r - 1);
        List<String> offered = new ArrayList<>(last.priors());
        offered.add("model:" + last.student());
        OptimizedDataset previous = OptimizedDataset.read(request.dir().resolve(last.dataset()));
        long[] sharedIds = previous.provenance().alignment().sharedIds().stream().mapToLong(Long::longValue).toArray();
        ImageSet round = request.data().load("train", s.limit());
        ImageSet onShared;
        try {
            onShared = round.subset(round.positionsOf(sharedIds));
        } catch (IllegalArgumentException e) {
            throw new UserException(previous.dir() + ": its shared subset is not in the data this run reads: " + e.getMessage());
        }
        double[] uniformity = new double[offered.size()];
        for (int i = 0; i < offered.size(); i++) {
            try (Prior prior = Priors.open(resolve(request.dir(), offered.get(i)), onShared, request.device(),
                    request.settings().computeIn())) {
                Embedder.Result out = new Embedder(s.batch(), 1).embed(prior, onShared, "uniformity of " + offered.get(i)
                        + " on S", ProgressListener.NONE);
                uniformity[i] = Uniformity.ofOutputs(out.values(), out.count(), out.dim());
            }
        }
        // a prior the previous round's screening left out is not offered again: uniformity alone would favour it when
        // its outputs are mostly noise (very uniform), which is what the screening guards the fusion against
        List<String> distrusted = last.participants().stream().filter(p -> !p.fused()).map(Participant::prior).toList();
        List<Candidate> out = choose(offered, uniformity, distrusted, s.keep().equals("all") ? offered.size() : s.priors().size());
        out.forEach(c -> request.log().accept(String.format(Locale.ROOT, "round %d: %-8s %s (uniformity on S %.4f)", r,
                c.kept() ? "keeps" : "drops", c.prior(), c.uniformity())));
        return out;
    }

    /** The {@code k} most uniform (lowest) of {@code offered}, leaving out the {@code distrusted}; ties keep the order. */
    static List<Candidate> choose(List<String> offered, double[] uniformity, List<String> distrusted, int k) {
        List<Integer> best = IntStream.range(0, offered.size()).filter(i -> !distrusted.contains(offered.get(i))).boxed()
                .sorted(Comparator.comparingDouble(i -> uniformity[i])).limit(k).toList();
        return IntStream.range(0, offered.size()).mapToObj(i -> new Candidate(offered.get(i), uniformity[i], best.contains(i)))
                .toList();
    }

    private record CollabOutcome(List<Participant> participants, String targetsSha256, int count, int dim,
                                 boolean readBack) {}

    private static CollabOutcome collaborate(Request request, int r, List<String> priors, Path dataset,
                                             ProgressListener progress) {
        Settings s = request.settings();
        Path participantsFile = dataset.resolveSibling("participants.json");
        if (Files.isRegularFile(participantsFile) && Files.isRegularFile(dataset.resolve("manifest.json"))) {
            List<Participant> had = List.of(Json.read(participantsFile, Participant[].class, Map.of()));
            if (had.stream().map(Participant::prior).toList().equals(priors)) {
                request.log().accept("round " + r + ": fused dataset written earlier, kept (" + dataset + ")");
                OptimizedDataset d = OptimizedDataset.read(dataset);
                return new CollabOutcome(had, d.targetsSha256(), d.count(), d.dim(), true);
            }
        }
        // written after the dataset: a dataset without it was cut short between the two and is made again
        AtomicFiles.deleteQuietly(participantsFile);
        request.log().accept("round " + r + ": collaboration of " + priors.size() + " priors (" + String.join(", ", priors) + ")");
        var result = CollaborativeOptimization.run(request.data(), "train", s.limit(),
                priors.stream().map(p -> resolve(request.dir(), p)).toList(), dataset,
                new CollaborativeOptimization.Settings(null, s.sharedCount() > 0 ? null : s.sharedFraction(),
                        s.sharedCount() > 0 ? s.sharedCount() : null, s.align(), s.dim(), s.batch(), s.seed()),
                request.device(), s.computeIn(), progress, request.created());
        List<Participant> participants = new ArrayList<>();
        for (int i = 0; i < result.priors().size(); i++) {
            int at = i;
            double residual = result.residuals().get(i);
            String note = result.excluded().stream().filter(e -> e.participant() == at)
                    .map(CollaborativeOptimization.Exclusion::reason).findFirst()
                    .orElse(i == result.reference() && !result.referenceVerified() ? UNVERIFIED : "");
            participants.add(new Participant(priors.get(i), result.uniformity().get(i), !Double.isNaN(residual),
                    i == result.reference(), Double.isNaN(residual) ? 0 : residual, note));
        }
        AtomicFiles.writeJson(participantsFile, participants);
        OptimizedDataset d = OptimizedDataset.read(dataset);
        return new CollabOutcome(List.copyOf(participants), d.targetsSha256(), d.count(), d.dim(), false);
    }

    /**
     * A prior as a round opens it: a student of an earlier round is named {@code model:round-NNN/student}, relative to
     * the rounds directory (so the records stay true when the directory moves), and resolved against it here.
     */
    static String resolve(Path dir, String prior) {
        String path = prior.startsWith("model:") ? prior.substring("model:".length()) : null;
        if (path != null && path.matches("round-\\d{3,}/student")) {
            return "model:" + dir.resolve(path).toAbsolutePath().normalize();
        }
        return prior;
    }

    private static String weightsSha256(Path student) {
        return ai.coopt.store.ModelDirectory.read(student).weightsSha256();
    }
}
