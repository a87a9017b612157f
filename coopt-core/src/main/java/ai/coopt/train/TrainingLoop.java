package ai.coopt.train;

import ai.coopt.UserException;
import ai.coopt.data.Augmentation;
import ai.coopt.data.BatchLoader;
import ai.coopt.data.ImageSet;
import ai.coopt.data.Normalization;
import ai.coopt.data.ViewBatch;
import ai.coopt.engine.Engines;
import ai.coopt.engine.NativeWork;
import ai.coopt.engine.Staging;
import ai.coopt.nn.Network;
import ai.coopt.report.MetricsLog;
import ai.coopt.store.Rows;
import ai.coopt.store.ModelDirectory;
import ai.coopt.util.ProgressListener;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static ai.coopt.Setting.BATCH_SIZE;
import static ai.coopt.Setting.LEARNING_RATE;
import static ai.coopt.Setting.LR_SCHEDULE;
import static ai.coopt.Setting.OUT;
import static ai.coopt.Setting.PRECISION;
import static ai.coopt.Setting.TARGETS;
import static ai.coopt.Setting.WARMUP;

/**
 * The one training loop every method runs on: epochs of shuffled (optionally sub-sampled) data,
 * two augmented views per image prepared ahead on worker threads, one sub-manager per step, AdamW,
 * a metrics line per step, checkpoints on a training-time schedule, and exact resume.
 *
 * <p>The run directory ends up a model directory (the final backbone) that also holds
 * {@code metrics.jsonl}, {@code loss.png} and {@code checkpoints/step-NNNNNNNNN/} (each a model
 * directory of the backbone at that time, with the full training state beside it).
 */
public final class TrainingLoop {
    /** What the run did. */
    public record Result(long steps, double trainSeconds, double checkpointSeconds, float lastLoss, String phase,
                         int checkpoints, boolean resumed) {}

    static final String CHECKPOINTS = "checkpoints";
    static final String METRICS = "metrics.jsonl";

    private final Method method;
    private final ImageSet data;
    private final Rows targets;
    private final int targetDim;
    private final TrainingConfig config;
    private final Path run;
    private final Normalization normalization;
    private final ObjectNode provenance;
    private final AdamW optimizer;
    private final Map<String, NDArray> stateArrays = new LinkedHashMap<>();
    /** The native buffers a step's inputs pass through (one each: the step's arrays are closed before the next). */
    private final Staging stagedView1 = new Staging();
    private final Staging stagedView2 = new Staging();
    private final Staging stagedTargets = new Staging();
    private final Staging stagedLocals = new Staging();
    private final Schedule learningRates;
    private final Schedule weightDecays;

    private long step;
    private int epoch;
    private double trainSeconds;
    private double checkpointSeconds;
    private double nextCheckpoint;
    private int checkpoints;

    /**
     * @param targets one row of {@code targetDim} floats per image of {@code data} (row i for image i; read
     *     by index, from disk for an optimized dataset), or null for methods without targets
     * @param provenance recorded in every model directory the run writes (data, targets, hyper-parameters, seed…)
     */
    public TrainingLoop(Method method, ImageSet data, Rows targets, int targetDim, TrainingConfig config, Path run,
                        ObjectNode provenance) {
        if (method.needsTargets() && targets == null) {
            throw new UserException(names -> "method " + method.name() + " trains on targets: give "
                    + names.of(TARGETS) + " DIR (an optimized dataset)");
        }
        this.method = method;
        this.data = data;
        this.targets = method.needsTargets() ? targets : null;
        this.targetDim = targetDim;
        this.config = config;
        this.run = run;
        this.normalization = Normalization.forImages(data);
        this.provenance = provenance;
        this.optimizer = new AdamW(method.trainable(), config.learningRate(), config.weightDecay());
        if (!config.decayBiasAndNorm()) {
            optimizer.excludeFromDecay(oneDimensional(method.trainable()));
        }
        optimizer.fixLearningRate(method.fixedLearningRate());
        this.learningRates = config.learningRateSchedule();
        this.weightDecays = config.weightDecaySchedule();
        method.trainable().forEach((name, p) -> stateArrays.put("param." + name, p.getArray()));
        method.state().forEach((name, a) -> stateArrays.put("state." + name, a));
        for (var entry : method.backbone().block().getParameters()) {
            if (!entry.getValue().requiresGradient()) {
                // batch-norm running statistics: not trained, but part of what the backbone computes
                stateArrays.put("buffer.backbone." + entry.getKey(), entry.getValue().getArray());
            }
        }
        optimizer.state().forEach((name, a) -> stateArrays.put("opt." + name, a));
    }

    /** Biases and normalisation parameters: every parameter with one dimension. */
    static Set<String> oneDimensional(Map<String, Parameter> parameters) {
        Set<String> out = new HashSet<>();
        parameters.forEach((name, p) -> {
            if (p.getArray().getShape().dimension() <= 1) {
                out.add(name);
            }
        });
        return out;
    }

    /** The parameter groups as the optimiser sees them (sizes), for the run's provenance. */
    public Map<String, Integer> parameterGroups() {
        return optimizer.groupSizes();
    }

    /** Optimiser steps taken so far (including those of the run a resumed loop continues). */
    public long steps() {
        return step;
    }

    /** Trains to the end of the budget; with {@code resume}, first continues from the newest complete checkpoint. */
    public Result run(boolean resume, ProgressListener progress) {
        int batchInEpoch = 0;
        boolean resumed = false;
        float lastLoss = Float.NaN;
        int perEpoch = stepsPerEpoch();
        if (perEpoch == 0) {
            throw new UserException(names -> names.of(BATCH_SIZE) + " " + config.batchSize() + " is larger than the "
                    + epochSize()
                    + " images an epoch draws; lower " + names.of(BATCH_SIZE));
        }
        if (resume) {
            Path latest = latestCheckpoint(run);
            samePrecision(latest);
            TrainState.Position at = TrainState.load(latest, stateArrays);
            optimizer.restoreSteps((int) at.step());
            method.restoreScalars(at.scalars());
            step = at.step();
            epoch = at.epoch();
            batchInEpoch = at.batchInEpoch();
            trainSeconds = at.trainSeconds();
            checkpoints = countCheckpoints(run);
            lastLoss = dropMetricsAfter(step);
            resumed = true;
        } else {
            checkpoint(0);
        }
        nextCheckpoint = config.checkpointEverySeconds() > 0 ? trainSeconds + config.checkpointEverySeconds() : Double.MAX_VALUE;
        progress.start("training (" + method.name() + ")", config.epochs() > 0 ? (long) config.epochs() * perEpoch
                : (long) Math.ceil(config.budgetSeconds()), config.epochs() > 0 ? "steps" : "s");
        Augmentation augmentation = new Augmentation(config.augmentation());
        try (MetricsLog metrics = MetricsLog.open(run.resolve(METRICS))) {
            while (!finished(perEpoch)) {
                try (BatchLoader loader = BatchLoader.builder(data, normalization).order(epochOrder())
                        .batchSize(config.batchSize()).dropLast(true).augmentation(augmentation).views(2)
                        .multiCrop(method.multiCrop())
                        .seed(config.seed()).epoch(epoch).workers(config.workers()).build()) {
                    int b = 0;
                    long t0 = System.nanoTime();
                    for (ViewBatch batch : loader) {
                        if (b++ < batchInEpoch) {
                            t0 = System.nanoTime();
                            continue;
                        }
                        lastLoss = trainStep(batch, fractionDone(perEpoch));
                        step++;
                        long t1 = System.nanoTime();
                        trainSeconds += (t1 - t0) / 1e9;
                        method.afterStep(step, fractionDone(perEpoch), lastLoss);
                        metrics.append(step, trainSeconds, epoch, lastLoss, method.phase(), optimizer.learningRate());
                        progress.advance(config.epochs() > 0 ? step : (long) trainSeconds);
                        if (trainSeconds >= nextCheckpoint) {
                            checkpoint(b);
                            nextCheckpoint += config.checkpointEverySeconds();
                        }
                        if (finished(perEpoch)) {
                            break;
                        }
                        t0 = System.nanoTime();
                    }
                    batchInEpoch = 0;
                    if (b >= perEpoch) {
                        epoch++;
                    }
                }
            }
        }
        progress.finish();
        checkpoint(0);
        writeFinalModel();
        return new Result(step, trainSeconds, checkpointSeconds, lastLoss, method.phase(), checkpoints, resumed);
    }

    /**
     * One step: the schedules' values at {@code fractionDone}, forward and backward, the method's hook, the optimiser.
     *
     * @param fractionDone the share of the run done before this step
     */
    private float trainStep(ViewBatch batch, double fractionDone) {
        Network backbone = method.backbone();
        Shape shape = new Shape(batch.shape());
        optimizer.setLearningRate((float) learningRates.at(fractionDone));
        optimizer.setWeightDecay((float) weightDecays.at(fractionDone));
        try (NativeWork section = NativeWork.enter(); NDManager m = backbone.manager().newSubManager()) {
            NDArray v1 = stagedView1.create(m, batch.view1(), 0, shape);
            NDArray v2 = stagedView2.create(m, batch.view2(), 0, shape);
            NDArray y = targets == null ? null : stagedTargets.create(m, rows(batch.indices()), 0,
                    new Shape(batch.size(), targetDim));
            NDArray locals = batch.locals() == null || !method.usesSmallViews() ? null
                    : stagedLocals.create(m, batch.locals(), 0, new Shape(batch.localShape()));
            float value;
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                NDArray loss = method.loss(new TrainingBatch(batch.indices(), v1, v2, y, m, locals,
                        locals == null ? 0 : batch.localCount(), step + 1, fractionDone));
                gc.backward(loss);
                value = loss.getFloat();
            }
            if (!Float.isFinite(value)) {
                throw new UserException(diverged(value));
            }
            method.beforeStep(step + 1, fractionDone);
            optimizer.step(method.active());
            return value;
        }
    }

    /**
     * The one line for a loss that stopped being finite: the settings cannot train this network, which the user can
     * change (a diverged run is not a defect of the tool), so it is said as such, with what to try.
     */
    private UserException.Text diverged(float value) {
        String phase = method.phase();
        long at = step + 1;
        float lr = optimizer.learningRate();
        boolean warmingUp = config.warmup() > 0;
        return names -> "the " + phase + " loss became " + value + " at step " + at + ": training diverged at "
                + names.of(LEARNING_RATE) + " " + lr + "; lower " + names.of(LEARNING_RATE)
                + (warmingUp ? "" : ", add a warm-up (" + names.of(LR_SCHEDULE) + " cosine " + names.of(WARMUP)
                + " 0.1)")
                + " and train again into a new " + names.of(OUT);
    }

    private float[] rows(int[] indices) {
        float[] out = new float[indices.length * targetDim];
        targets.gather(indices, out);
        return out;
    }

    private int epochSize() {
        return config.dataRatio() < 1 ? Math.max(1, (int) Math.round(data.count() * config.dataRatio())) : data.count();
    }

    private int stepsPerEpoch() {
        return epochSize() / config.batchSize();
    }

    private int[] epochOrder() {
        return config.dataRatio() < 1
                ? BatchLoader.randomSubset(data.count(), config.dataRatio(), config.seed(), epoch)
                : BatchLoader.shuffledOrder(data.count(), config.seed(), epoch);
    }

    private boolean finished(int perEpoch) {
        return config.epochs() > 0 ? step >= (long) config.epochs() * perEpoch : trainSeconds >= config.budgetSeconds();
    }

    private double fractionDone(int perEpoch) {
        return config.epochs() > 0 ? step / (double) ((long) config.epochs() * perEpoch)
                : Math.min(1.0, trainSeconds / config.budgetSeconds());
    }

    /**
     * Refuses to continue, in another precision, a run a checkpoint says was trained in one (a checkpoint from before
     * precision was recorded was trained in fp32).
     */
    private void samePrecision(Path checkpoint) {
        String then = ModelDirectory.read(checkpoint).provenance().path("precision").asText("fp32");
        String now = provenance.path("precision").asText("fp32");
        if (!then.equals(now)) {
            throw new UserException(names -> run + " was trained in " + then + "; resume it with " + names.of(PRECISION)
                    + " " + then + ", not " + now);
        }
    }

    /** Keeps the backbone (a model directory) and the full training state; time spent here is not training time. */
    private void checkpoint(int batchInEpoch) {
        long t0 = System.nanoTime();
        Path dir = run.resolve(CHECKPOINTS).resolve(String.format("step-%09d", step));
        if (!TrainState.isComplete(dir)) {
            ModelDirectory.write(dir, method.backbone(), normalization.mean(), normalization.std(), method.name(),
                    provenance(step, trainSeconds));
            int inEpoch = batchInEpoch >= stepsPerEpoch() ? 0 : batchInEpoch;
            int atEpoch = batchInEpoch >= stepsPerEpoch() ? epoch + 1 : epoch;
            TrainState.save(dir, stateArrays, new TrainState.Position(step, atEpoch, inEpoch, trainSeconds,
                    method.scalars()));
            checkpoints++;
        }
        checkpointSeconds += (System.nanoTime() - t0) / 1e9;
    }

    private ObjectNode provenance(long atStep, double seconds) {
        ObjectNode p = provenance.deepCopy();
        p.put("step", atStep);
        p.put("train_seconds", seconds);
        p.put("phase", method.phase());
        return p;
    }

    /** The run directory becomes a model directory: weights first, model.json last (its presence marks it whole). */
    private void writeFinalModel() {
        Path tmp = run.resolve(".final-model");
        ModelDirectory.write(tmp, method.backbone(), normalization.mean(), normalization.std(), method.name(),
                provenance(step, trainSeconds));
        try {
            Files.move(tmp.resolve(ModelDirectory.WEIGHTS_FILE), run.resolve(ModelDirectory.WEIGHTS_FILE),
                    StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmp.resolve(ModelDirectory.MODEL_JSON), run.resolve(ModelDirectory.MODEL_JSON),
                    StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.delete(tmp);
        } catch (IOException e) {
            throw new UserException(run + ": cannot write the final model: " + e.getMessage());
        }
    }

    /**
     * Drops the metrics of steps after the checkpoint a resumed run starts from (they are taken
     * again) and returns the last loss kept (NaN when none).
     */
    private float dropMetricsAfter(long lastStep) {
        Path file = run.resolve(METRICS);
        if (!Files.exists(file)) {
            return Float.NaN;
        }
        List<MetricsLog.Entry> kept = MetricsLog.read(file).stream().filter(e -> e.step() <= lastStep).toList();
        Path tmp = run.resolve("." + METRICS + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            try (MetricsLog log = MetricsLog.open(tmp)) {
                kept.forEach(e -> log.append(e.step(), e.time(), e.epoch(), e.loss(), e.phase(), e.lr()));
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UserException(file + ": cannot rewrite for resume: " + e.getMessage());
        }
        return kept.isEmpty() ? Float.NaN : (float) kept.get(kept.size() - 1).loss();
    }

    /** The newest checkpoint whose training state was written completely. */
    static Path latestCheckpoint(Path run) {
        try (Stream<Path> dirs = Files.list(run.resolve(CHECKPOINTS))) {
            List<Path> complete = dirs.filter(TrainState::isComplete).sorted().toList();
            if (complete.isEmpty()) {
                throw new UserException(run + ": no complete checkpoint to resume from");
            }
            return complete.get(complete.size() - 1);
        } catch (IOException e) {
            throw new UserException(run + ": no checkpoints to resume from (" + e.getMessage() + ")");
        }
    }

    private static int countCheckpoints(Path run) {
        try (Stream<Path> dirs = Files.list(run.resolve(CHECKPOINTS))) {
            return (int) dirs.filter(TrainState::isComplete).count();
        } catch (IOException e) {
            return 0;
        }
    }
}
