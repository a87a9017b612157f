package ai.coopt.cli;

import ai.coopt.report.HtmlReport;
import ai.coopt.report.Plots;
import ai.coopt.report.TargetMap;
import ai.coopt.rounds.ContinuousOptimization;
import ai.coopt.store.OptimizedDataset;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code coopt rounds}' report.html: accuracy per round, each round's participants, and each round's target map. */
final class RoundsReport {
    private final Path dir;
    private final ContinuousOptimization.Settings settings;
    private final int mapPoints;
    private final List<String> commandLine;

    RoundsReport(Path dir, ContinuousOptimization.Settings settings, int mapPoints, List<String> commandLine) {
        this.dir = dir;
        this.settings = settings;
        this.mapPoints = mapPoints;
        this.commandLine = commandLine;
    }

    Path file() {
        return dir.resolve("report.html");
    }

    /** The reference participant's prior, or "-" when none was recorded. */
    static String reference(ContinuousOptimization.Round r) {
        return r.participants().stream().filter(ContinuousOptimization.Participant::reference)
                .map(ContinuousOptimization.Participant::prior).findFirst().orElse("-");
    }

    /** Rewrites the report (and any missing chart) for the rounds so far. */
    void write(List<ContinuousOptimization.Round> rounds) {
        HtmlReport html = new HtmlReport("CoOpt continuous optimization: " + rounds.size() + " rounds on " + settings.data());
        html.paragraph(String.format(Locale.ROOT, "Round 0 fused the targets of %d priors; each round trained a %s student "
                + "(ReLA, then %s; %s) on its fused dataset and probed it; the student then joined the prior set of the next "
                + "round (keep %s%s). Alignment: %s. Networks computed in %s.", settings.priors().size(), settings.studentArch(), settings.then(),
                settings.studentEpochs() > 0 ? settings.studentEpochs() + " epochs"
                        : String.format(Locale.ROOT, "%.0f s of training", settings.studentBudgetSeconds()),
                settings.keep(), settings.keep().equals("best") ? ": the " + settings.priors().size()
                        + " most uniform on the previous round's S" : ": everyone", settings.align(), settings.precision()));
        html.note("Made " + Instant.now() + " by coopt " + Version.get() + ": " + String.join(" ", commandLine));

        Path plot = dir.resolve("accuracy.png");
        Plots.roundsPlot(rounds.stream().mapToInt(ContinuousOptimization.Round::round).toArray(),
                rounds.stream().mapToDouble(ContinuousOptimization.Round::probeTop1).toArray(), plot);
        html.heading("Student accuracy per round");
        html.image(plot, "linear-probe top-1 of each round's student");
        List<List<String>> rows = new ArrayList<>();
        for (var r : rounds) {
            rows.add(List.of(String.valueOf(r.round()), String.valueOf(r.participants().size()), reference(r),
                    String.format(Locale.ROOT, "%,d x %d", r.count(), r.dim()), String.valueOf(r.studentSteps()),
                    r.studentPhase(), String.format(Locale.ROOT, "%.2f%%", 100 * r.probeTop1()),
                    String.format(Locale.ROOT, "%.0f s", r.seconds()) + (r.resumed() ? " (resumed)" : "")));
        }
        html.table(List.of("round", "priors", "reference (most uniform)", "fused targets", "student steps", "ended in phase",
                "probe top-1", "wall time"), rows);
        var first = rounds.get(0);
        html.note(String.format(Locale.ROOT, "Linear probe on frozen features: fitted on %,d train images, scored on %,d test images.",
                first.probeTrain(), first.probeTest()));

        for (var r : rounds) {
            html.heading("Round " + r.round());
            List<List<String>> people = new ArrayList<>();
            for (var c : r.candidates()) {
                var p = r.participants().stream().filter(x -> x.prior().equals(c.prior())).findFirst();
                people.add(List.of(c.prior(), String.format(Locale.ROOT, "%.4f", c.uniformity()), c.kept() ? "yes" : "dropped",
                        p.map(x -> x.reference() ? (x.note().isEmpty() ? "reference" : "reference, " + x.note()) : x.fused()
                                ? String.format(Locale.ROOT, "residual %.3f", x.residual()) : "excluded: " + x.note()).orElse("-")));
            }
            html.table(List.of("prior", r.round() == 0 ? "uniformity on S" : "uniformity on the previous S", "taken",
                    "fusion"), people);
            if (mapPoints > 0) {
                Path map = ContinuousOptimization.roundDir(dir, r.round()).resolve("map.png");
                if (!Files.isRegularFile(map)) {
                    OptimizedDataset d = OptimizedDataset.read(dir.resolve(r.dataset()));
                    TargetMap.BeforeAfter maps = TargetMap.of(d, mapPoints, settings.seed());
                    Plots.mapPlot(maps.after(), maps.priors(), map);
                }
                html.image(map, "t-SNE map of round " + r.round() + "'s fused targets, coloured by participant");
            }
        }
        html.note("Uniformity: Wang & Isola's value (t = 2) of a prior's outputs on S, centred on S and L2-normalised; "
                + "lower is more uniform.");
        html.heading("Files");
        html.note("Each round: " + dir.toAbsolutePath() + "/round-NNN/ with dataset/ (the fused optimized dataset), "
                + "student/ (a model directory), round.json; settings in rounds.json.");
        html.write(file());
    }
}
