package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.eval.LearningCurve;
import ai.coopt.eval.LinearProbe;
import ai.coopt.report.Plots;
import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code coopt eval curve --run DIR [--run DIR …] --train SPEC --test SPEC [--limit N] [--epochs E] [--plot FILE]}:
 * the linear probe on every checkpoint of each training run, and one chart of top-1 against training time.
 */
@Command(name = "curve", mixinStandardHelpOptions = true,
        description = "Learning curves: the linear probe (as in 'eval linear') on every checkpoint of each run "
                + "written by 'coopt train', and a PNG of top-1 against training time with one line per run.")
final class CurveCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "DIR",
            description = "A run directory written by 'coopt train' (repeat for several runs).")
    List<Path> runs;

    @Option(names = "--plot", paramLabel = "FILE.png",
            description = "Where to write the chart (default: curves.png inside the first run directory).")
    Path plot;

    @Mixin
    ProbeOptions probe;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        LinearProbe.Settings settings = probe.settings();
        DatasetSpec trainData = probe.trainSpec();
        DatasetSpec testData = probe.testSpec();
        runs.forEach(LearningCurve::checkpoints);
        Path png = (plot != null ? plot : runs.get(0).resolve("curves.png")).toAbsolutePath().normalize();
        if (Files.isDirectory(png)) {
            throw new UserException("--plot " + png + ": is a directory; name a PNG file");
        }
        Device device = common.engine();
        CliProgress progress = new CliProgress();
        List<LearningCurve> curves = new ArrayList<>();
        for (Path run : runs) {
            curves.add(LearningCurve.of(run.toAbsolutePath().normalize(), trainData, testData, probe.limit, settings,
                    device, progress));
        }
        Plots.curvesPlot(curves.stream().map(c -> new Plots.Curve(label(c), c.points())).toList(), png);
        Output.print(common.json, toJson(curves, png), human(curves, png));
        return 0;
    }

    private static String label(LearningCurve curve) {
        return curve.run().getFileName().toString();
    }

    private static ObjectNode toJson(List<LearningCurve> curves, Path png) {
        ObjectNode o = Output.object();
        ArrayNode runs = o.putArray("runs");
        for (LearningCurve c : curves) {
            ObjectNode run = runs.addObject();
            run.put("run", c.run().toString());
            run.put("label", label(c));
            run.put("method", c.method());
            ArrayNode points = run.putArray("points");
            for (LearningCurve.Point p : c.points()) {
                points.addObject().put("step", p.step()).put("seconds", p.seconds()).put("top1", p.top1());
            }
        }
        o.put("plot", png.toString());
        return o;
    }

    private static String human(List<LearningCurve> curves, Path png) {
        StringBuilder s = new StringBuilder();
        for (LearningCurve c : curves) {
            s.append(String.format(Locale.ROOT, "%s (%s): %s%n", label(c), c.method(), c.run()));
            s.append(String.format(Locale.ROOT, "  %10s  %10s  %7s%n", "step", "seconds", "top-1"));
            for (LearningCurve.Point p : c.points()) {
                s.append(String.format(Locale.ROOT, "  %10d  %10.1f  %6.2f%%%n", p.step(), p.seconds(), 100 * p.top1()));
            }
        }
        return s.append("curves plot: ").append(png).toString();
    }
}
