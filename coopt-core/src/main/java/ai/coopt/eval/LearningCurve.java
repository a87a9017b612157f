package ai.coopt.eval;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.store.ModelDirectory;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * How a training run's representation improved over training time: the linear probe's top-1 on every
 * checkpoint the run saved. A run is a directory written by {@code coopt train} with a {@value #CHECKPOINTS}
 * folder of model directories (one per checkpoint, their provenance recording {@code step} and
 * {@code train_seconds}) and, once finished, the final model directory itself.
 *
 * @param run the run directory
 * @param method how the run trained: the {@code method} of the run's {@code model.json}, or of its newest
 *     checkpoint while the run has no final model yet
 * @param points one per checkpoint, in step order
 */
public record LearningCurve(Path run, String method, List<Point> points) {
    /** The folder inside a run that holds its checkpoints. */
    public static final String CHECKPOINTS = "checkpoints";

    /** One probed checkpoint: its training step, the training wall time when it was taken, the probe's top-1 (0..1). */
    public record Point(long step, double seconds, double top1) {}

    /** A verified checkpoint of a run. */
    public record Checkpoint(Path dir, long step, double seconds, String method) {}

    public LearningCurve {
        points = List.copyOf(points);
    }

    /**
     * Probes every checkpoint of {@code run} with {@link LinearEvaluation#run} (all with the same data and probe
     * settings). Every checkpoint is verified before the first probe starts.
     *
     * @throws UserException when {@code run} is not a run, has no checkpoints, or a checkpoint fails verification
     */
    public static LearningCurve of(Path run, DatasetSpec train, DatasetSpec test, int limit,
                                   LinearProbe.Settings settings, Device device, ProgressListener progress) {
        List<Checkpoint> checkpoints = checkpoints(run);
        String method = Files.exists(run.resolve(ModelDirectory.MODEL_JSON))
                ? ModelDirectory.read(run).method()
                : checkpoints.get(checkpoints.size() - 1).method();
        ImageSet trainImages = train.load("train", limit);
        ImageSet testImages = test.load("test", limit);
        List<Point> points = new ArrayList<>();
        for (Checkpoint c : checkpoints) {
            String prefix = "step " + c.step() + " (" + (points.size() + 1) + "/" + checkpoints.size() + ") ";
            LinearEvaluation.Report report = LinearEvaluation.run("model:" + c.dir(), trainImages, testImages, settings,
                    device, new Prefixed(prefix, progress));
            points.add(new Point(c.step(), c.seconds(), report.probe().top1()));
        }
        return new LearningCurve(run, method, points);
    }

    /**
     * The run's checkpoints, verified (description, provenance {@code step} and {@code train_seconds}, weights
     * checksum) and sorted by step. Hidden entries (unfinished atomic writes) and plain files are ignored.
     *
     * @throws UserException when {@code run} is not a run, has no checkpoints, or a checkpoint fails verification
     */
    public static List<Checkpoint> checkpoints(Path run) {
        if (!Files.isDirectory(run)) {
            throw new UserException(run + ": " + (Files.exists(run) ? "not a directory" : "no such directory")
                    + " (expected a training run written by coopt train)");
        }
        Path folder = run.resolve(CHECKPOINTS);
        if (!Files.isDirectory(folder)) {
            throw new UserException(run + ": not a training run (no " + CHECKPOINTS + "/ folder)");
        }
        List<Path> dirs;
        try (Stream<Path> entries = Files.list(folder)) {
            dirs = entries.filter(p -> !p.getFileName().toString().startsWith(".") && Files.isDirectory(p))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UserException(folder + ": cannot list: " + e.getMessage(), e);
        }
        if (dirs.isEmpty()) {
            throw new UserException(run + ": the run has no checkpoints (" + CHECKPOINTS + "/ is empty)");
        }
        List<Checkpoint> checkpoints = new ArrayList<>();
        for (Path dir : dirs) {
            checkpoints.add(checkpoint(run, dir));
        }
        checkpoints.sort(Comparator.comparingLong(Checkpoint::step));
        return checkpoints;
    }

    private static Checkpoint checkpoint(Path run, Path dir) {
        String name = "checkpoint " + dir.getFileName() + " of run " + run;
        ModelDirectory model;
        try {
            model = ModelDirectory.read(dir);
        } catch (UserException e) {
            throw UserException.prefixed(name + " failed verification: ", e);
        }
        JsonNode step = model.provenance().get("step");
        if (step == null || !step.canConvertToExactIntegral() || !step.canConvertToLong() || step.asLong() < 0) {
            throw new UserException(name + ": its " + ModelDirectory.MODEL_JSON
                    + " provenance has no non-negative integer 'step'");
        }
        JsonNode seconds = model.provenance().get("train_seconds");
        if (seconds == null || !seconds.isNumber() || !(seconds.asDouble() >= 0) || Double.isInfinite(seconds.asDouble())) {
            throw new UserException(name + ": its " + ModelDirectory.MODEL_JSON
                    + " provenance has no non-negative number 'train_seconds'");
        }
        return new Checkpoint(dir, step.asLong(), seconds.asDouble(), model.method());
    }

    /** Passes progress on with each task named after the checkpoint it belongs to. */
    private record Prefixed(String prefix, ProgressListener target) implements ProgressListener {
        @Override
        public void start(String task, long total, String unit) {
            target.start(prefix + task, total, unit);
        }

        @Override
        public void advance(long done) {
            target.advance(done);
        }

        @Override
        public void finish() {
            target.finish();
        }
    }
}
