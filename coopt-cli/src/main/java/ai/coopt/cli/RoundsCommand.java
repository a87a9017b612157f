package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.rounds.ContinuousOptimization;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code coopt rounds}: continuous optimization, the student of each round a prior of the next. */
@Command(name = "rounds", mixinStandardHelpOptions = true,
        description = "Continuous optimization in rounds: round 0 is a collaboration (coopt collab) of the given priors; each "
                + "round trains a student (ReLA, then --then) on its fused dataset and probes it; the student joins the "
                + "prior set of the next round (--keep all), or the set keeps the K most uniform on S (--keep best, K = "
                + "the number of priors given). Resumable: run the same command again after an interruption. Writes "
                + "DIR/round-NNN/ (dataset/, student/, round.json), DIR/rounds.json and DIR/report.html.")
final class RoundsCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "SPEC",
            description = "fashion-mnist, mnist, idx:DIR, cifar10:DIR, cifar100:DIR or folder:DIR: its train split is "
                    + "optimized and trains the students; the probe trains on it and tests on its test split.")
    String data;

    @Option(names = "--limit", defaultValue = "0", description = "Use a seeded random subset of N training samples, "
            + "stratified by class when the data is labelled (0 = all); the same N and --limit-seed give the same subset in "
            + "every command.")
    int limit;

    @Option(names = "--limit-seed", defaultValue = "0", description = "Seed of the --limit and --probe-limit subsets "
            + "(default: ${DEFAULT-VALUE}).")
    long limitSeed;

    @Mixin
    ImageOptions image;

    @Option(names = "--priors", required = true, paramLabel = "SPEC,SPEC,...", split = ",",
            description = "Round 0's priors, at least two different ones (one participant each).")
    List<String> priors;

    @Option(names = "--rounds", required = true, description = "Rounds in all, at least 1 (more than a finished run had continues it).")
    int rounds;

    @Option(names = "--keep", defaultValue = "best", description = "best (the K most uniform on S of the priors and the new "
            + "student; K = the number of priors given) or all (everyone: the set grows by one per round); default: ${DEFAULT-VALUE}.")
    String keep;

    @Option(names = "--student-arch", required = true, description = "The students' backbone: ${COMPLETION-CANDIDATES}.",
            completionCandidates = ArchNames.class)
    String studentArch;

    /** Exactly one budget per student. */
    static final class Budget {
        @Option(names = "--student-epochs", description = "Train each student for N epochs (a resumed run ends exactly as an uninterrupted one).")
        Integer epochs;

        @Option(names = "--student-budget-seconds", description = "Train each student for S seconds of training wall time.")
        Double seconds;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Budget budget;

    @Option(names = "--then", defaultValue = "byol", description = "The students' hand-off after ReLA: an SSL method or none (default: ${DEFAULT-VALUE}).")
    String then;

    @Option(names = "--switch-at", description = "Hand off after this share of each student's run instead of the adaptive rule.")
    Double switchAt;

    @Option(names = "--student-batch", defaultValue = "128", description = "The students' batch size (default: ${DEFAULT-VALUE}).")
    int studentBatch;

    @Option(names = "--student-lr", defaultValue = "1e-3", description = "The students' AdamW learning rate (default: ${DEFAULT-VALUE}).")
    float studentLr;

    @Option(names = "--student-weight-decay", defaultValue = "0.01", description = "The students' AdamW weight decay (default: ${DEFAULT-VALUE}).")
    float studentWeightDecay;

    @Option(names = "--checkpoint-every-seconds", defaultValue = "30", description = "Keep each student's state every S seconds "
            + "of training, where an interrupted run resumes (default: ${DEFAULT-VALUE}; 0 = first and last only).")
    double checkpointEvery;

    @Option(names = "--probe-limit", defaultValue = "0", description = "Images of each split for the students' linear probes (0 = all).")
    int probeLimit;

    @Mixin
    FusionOptions fusion;

    @Option(names = "--map-points", defaultValue = "300", description = "Samples per participant in each round's t-SNE map (default: ${DEFAULT-VALUE}; 0 = no maps).")
    int mapPoints;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds the shards, S and the students (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The rounds directory (an existing one is continued).")
    Path out;

    @Mixin
    PrecisionOption precision;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        Check.atLeast("--limit", limit, 0);
        Check.positive("--batch", fusion.batch);
        Check.atLeast("--dim", fusion.dim, 0);
        Check.atLeast("--map-points", mapPoints, 0);
        // --switch-at 0 would read as "the adaptive rule" in the settings (0), so it is refused here; the rest is checked
        // by ContinuousOptimization.check
        if (switchAt != null && !(switchAt > 0 && switchAt < 1)) {
            throw new UserException("--switch-at must lie between 0 and 1, not " + switchAt);
        }
        DatasetSpec spec = image.apply(DatasetSpec.parse(data)).withProgress(new CliProgress());
        var device = common.engine();
        // chosen before the settings: they record fp32 or bf16, never auto, so a rerun on other hardware is compared
        // with what the first run computed in
        String computeIn = precision.choose(device).label();
        var settings = new ContinuousOptimization.Settings(ContinuousOptimization.FORMAT, spec.spec(), limit, limitSeed, priors, keep,
                fusion.align, fusion.count() != null ? 0
                        : fusion.fraction() != null ? fusion.fraction() : CollaborativeOptimization.DEFAULT_SHARED_FRACTION,
                fusion.count() != null ? fusion.count() : 0, fusion.dim, fusion.batch, seed, studentArch,
                then, switchAt == null ? 0 : switchAt, budget.epochs == null ? 0 : budget.epochs,
                budget.seconds == null ? 0 : budget.seconds, studentBatch, studentLr, studentWeightDecay, checkpointEvery,
                probeLimit, computeIn);
        ContinuousOptimization.check(settings, rounds);
        RoundsReport report = new RoundsReport(out, settings, mapPoints, Main.commandLine());
        var result = ContinuousOptimization.run(new ContinuousOptimization.Request(spec, settings, rounds, out, device,
                Provenance.created(seed), Provenance::createdNode, line -> Output.note("coopt rounds: " + line),
                report::write), new CliProgress());
        Path html = report.file();

        ObjectNode o = Output.object();
        o.put("out", out.toAbsolutePath().toString());
        o.put("report", html.toAbsolutePath().toString());
        o.put("rounds", result.rounds().size());
        o.put("rounds_read_back", result.roundsReadBack());
        o.put("seconds", result.seconds());
        ArrayNode list = o.putArray("per_round");
        StringBuilder human = new StringBuilder(String.format(Locale.ROOT, "%s: %d rounds (%d read back), report %s",
                out, result.rounds().size(), result.roundsReadBack(), html));
        for (var r : result.rounds()) {
            list.add(ai.coopt.store.Json.mapper().<ObjectNode>valueToTree(r));
            human.append(String.format(Locale.ROOT, "%n  round %d: student top-1 %.2f%%, %d priors, reference %s",
                    r.round(), 100 * r.probeTop1(), r.participants().size(), RoundsReport.reference(r)));
        }
        Output.print(common.json, o, human.toString());
        return 0;
    }
}
