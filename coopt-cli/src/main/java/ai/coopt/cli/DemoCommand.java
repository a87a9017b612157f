package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.eval.LinearEvaluation;
import ai.coopt.eval.LinearProbe;
import ai.coopt.platform.api.Status;
import ai.coopt.platform.demo.Demo;
import ai.coopt.train.Training;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code coopt demo}: CoOpt's whole story ({@link Demo}), on Fashion-MNIST with three priors the project ships unless
 * {@code --data}, {@code --priors} and {@code --arch} say otherwise. This command checks its options, runs the demo and
 * prints its results: the JSON summary or the table.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the main job end to end (by default on Fashion-MNIST with three shipped priors): collaborative "
                + "optimization, one participant per prior, a ReLA->BYOL student on the fused dataset against BYOL from "
                + "scratch on the same budget, linear probes, and a self-contained report.html.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--data", defaultValue = "fashion-mnist", paramLabel = "SPEC", description = "The data, with a train and "
            + "a test split, labelled (the probes need labels): any dataset spec (default: ${DEFAULT-VALUE}).")
    String dataSpec;

    @Option(names = "--priors", split = ",", paramLabel = "SPEC", description = "The participants' priors, one participant "
            + "each, at least two (default: the three shipped Fashion-MNIST priors).")
    List<String> priors;

    @Option(names = "--arch", defaultValue = Demo.ARCH, description = "The students' architecture (default: ${DEFAULT-VALUE}).")
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
        List<String> participants = priors == null || priors.isEmpty() ? Demo.PRIORS : List.copyOf(priors);
        if (participants.size() < 2) {
            throw new UserException("--priors needs at least two priors (one participant each), not " + participants.size());
        }
        DatasetSpec data = image.apply(DatasetSpec.parse(dataSpec));
        if (!ai.coopt.nn.Architectures.names().contains(arch)) {
            throw new UserException("unknown architecture '" + arch + "': choose one of "
                    + String.join(", ", ai.coopt.nn.Architectures.names()));
        }
        Demo.Settings settings = new Demo.Settings(data, image.imageSize, participants, arch, out, 60 * minutes, limit,
                curveLimit, mapPoints, seed, inProcess);
        Demo.Result r = Demo.run(settings, new Demo.Context(common.engine(), new CliProgress(), Output::note,
                ChildProcess::coopt, Version.get(), Main.commandLine()));

        ObjectNode o = Output.object();
        o.set("collab", CollabCommand.toJson(r.collab(), "ridge"));
        Status platform = r.platform();
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
        o.put("budget_seconds", r.budgetSeconds());
        o.set("rela", student(r.rela(), r.relaProbe(), r.probe()));
        o.set("byol", student(r.byol(), r.byolProbe(), r.probe()));
        double overhead = r.overheadSeconds();
        o.put("overhead_seconds", overhead);
        o.put("overhead_fraction_of_training", overhead / r.rela().result().trainSeconds());
        o.put("map_seconds", r.maps().seconds());
        o.put("report", r.report().toAbsolutePath().toString());
        Output.print(common.json, o, summary(r));
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

    /** The printed table. */
    private static String summary(Demo.Result r) {
        var c = r.collab();
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                "%nCoOpt on %s: %d participants, %,d images, shared subset %d, fused to %d-dim targets%n",
                r.dataName(), c.priors().size(), c.count(), r.sharedCount(), c.dim()));
        s.append(String.format(Locale.ROOT, "  %-4s %-28s %12s %10s%n", "rank", "prior", "uniformity", "residual"));
        int rank = 1;
        for (int i : c.ranking()) {
            s.append(String.format(Locale.ROOT, "  %-4d %-28s %12.4f %10.3f%s%n", rank++, c.priors().get(i), c.uniformity().get(i),
                    c.residuals().get(i), i == c.reference() ? "  " + r.referenceLabel() : ""));
        }
        s.append(String.format(Locale.ROOT, "%n%s students, %.0f s of training each; linear probe (%,d train / %,d test):%n",
                Demo.ARCH, r.budgetSeconds(), r.relaProbe().probe().trainCount(), r.relaProbe().probe().testCount()));
        s.append(String.format(Locale.ROOT, "  %-40s %7d steps  top-1 %6.2f%%%n", "ReLA->BYOL on the fused CoOpt dataset",
                r.rela().result().steps(), 100 * r.relaProbe().probe().top1()));
        s.append(String.format(Locale.ROOT, "  %-40s %7d steps  top-1 %6.2f%%%n", "BYOL from scratch",
                r.byol().result().steps(), 100 * r.byolProbe().probe().top1()));
        s.append(String.format(Locale.ROOT, "%nOverhead: uniformity + alignment %.2f s = %.2f%% of the student's training.%n",
                r.overheadSeconds(), 100 * r.overheadSeconds() / r.rela().result().trainSeconds()));
        return s.append("Report: ").append(r.report().toAbsolutePath()).toString();
    }
}
