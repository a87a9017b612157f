package ai.coopt.eval;

import ai.coopt.UserException;
import ai.coopt.engine.Engines;
import ai.coopt.engine.NativeWork;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * The offline linear probe (ReLA protocol): one linear layer trained with Adam on frozen features
 * with cross-entropy, scored on the test features after every epoch; the reported top-1 is the
 * mean of the last three epochs. Features are standardised with the train set's per-dimension mean
 * and standard deviation first (a frozen backbone's features can have any scale; a fixed learning
 * rate needs them comparable).
 */
public final class LinearProbe {
    /** Probe settings. */
    public record Settings(int epochs, int batchSize, float learningRate, long seed) {
        public static Settings defaults() {
            return new Settings(100, 256, 3e-4f, 0);
        }
    }

    /** The probe's outcome; {@code top1} is the mean test accuracy of the last three epochs, in 0..1. */
    public record Result(double top1, List<Double> testAccuracyPerEpoch, int trainCount, int testCount,
                         int featureDim, int classes, double seconds) {}

    private final Settings settings;

    public LinearProbe(Settings settings) {
        this.settings = settings;
    }

    public Result fit(Features train, Features test, Device device) {
        return fit(train, test, device, epochs -> { });
    }

    /** Fits and scores; {@code epochsDone} hears the number of finished epochs after each one. */
    public Result fit(Features train, Features test, Device device, IntConsumer epochsDone) {
        if (train.labels() == null || test.labels() == null) {
            throw new UserException("the linear probe needs labelled train and test data");
        }
        if (train.dim() != test.dim()) {
            throw new IllegalArgumentException("train and test feature widths differ");
        }
        requireSeveralClasses(train.labels(), "the probe's training split");
        long t0 = System.nanoTime();
        int classes = Math.max(maxLabel(train.labels()), maxLabel(test.labels())) + 1;
        int dim = train.dim();
        float[][] stats = meanStd(train);
        Engines.seed(settings.seed());
        try (NDManager m = NDManager.newBaseManager(device)) {
            NDArray xTrain = standardized(m, train, stats);
            NDArray xTest = standardized(m, test, stats);
            NDArray yTrain = m.create(train.labels());
            NDArray yTest = m.create(test.labels());
            float bound = (float) (1 / Math.sqrt(dim));
            NDArray w = m.randomUniform(-bound, bound, new Shape(dim, classes));
            NDArray b = m.zeros(new Shape(classes));
            w.setRequiresGradient(true);
            b.setRequiresGradient(true);
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(settings.learningRate())).build();
            List<Double> accuracy = new ArrayList<>();
            SplittableRandom rng = new SplittableRandom(settings.seed());
            for (int epoch = 0; epoch < settings.epochs(); epoch++) {
                int[] order = permutation(train.count(), rng);
                for (int start = 0; start < order.length; start += settings.batchSize()) {
                    int end = Math.min(order.length, start + settings.batchSize());
                    try (NativeWork section = NativeWork.enter(); NDManager step = m.newSubManager()) {
                        // results of operations live in their input's manager: borrow the data into this step's
                        xTrain.tempAttach(step);
                        yTrain.tempAttach(step);
                        NDArray idx = step.create(Arrays.copyOfRange(order, start, end));
                        NDArray x = xTrain.get(idx);
                        NDArray y = yTrain.get(idx);
                        try (GradientCollector gc = Engines.get().newGradientCollector()) {
                            NDArray logits = x.matMul(w).add(b);
                            NDArray loss = logits.logSoftmax(1).mul(y.oneHot(classes)).sum(new int[] {1}).mean().neg();
                            gc.backward(loss);
                        }
                        update(adam, "w", w);
                        update(adam, "b", b);
                    }
                }
                accuracy.add(accuracy(m, xTest, yTest, w, b));
                epochsDone.accept(epoch + 1);
            }
            int k = Math.min(3, accuracy.size());
            double top1 = accuracy.subList(accuracy.size() - k, accuracy.size()).stream()
                    .mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            return new Result(top1, accuracy, train.count(), test.count(), dim, classes, (System.nanoTime() - t0) / 1e9);
        }
    }

    private static void update(Optimizer adam, String id, NDArray weight) {
        try (NDArray grad = weight.getGradient()) {
            adam.update(id, weight, grad);
        }
    }

    private static double accuracy(NDManager m, NDArray x, NDArray y, NDArray w, NDArray b) {
        try (NativeWork section = NativeWork.enter(); NDManager step = m.newSubManager()) {
            x.tempAttach(step);
            y.tempAttach(step);
            NDArray pred = x.matMul(w).add(b).argMax(1).toType(DataType.INT32, false);
            return pred.eq(y).sum().toType(DataType.FLOAT32, false).getFloat() / (double) y.size();
        }
    }

    private static NDArray standardized(NDManager m, Features f, float[][] stats) {
        float[] v = f.values().clone();
        int d = f.dim();
        for (int i = 0; i < f.count(); i++) {
            for (int j = 0; j < d; j++) {
                v[i * d + j] = (v[i * d + j] - stats[0][j]) / stats[1][j];
            }
        }
        return m.create(v, new Shape(f.count(), d));
    }

    /** Per-dimension mean and standard deviation (std floored at 1e-6 so constant dimensions stay finite). */
    static float[][] meanStd(Features f) {
        int d = f.dim();
        double[] sum = new double[d];
        double[] sq = new double[d];
        float[] v = f.values();
        for (int i = 0; i < f.count(); i++) {
            for (int j = 0; j < d; j++) {
                double x = v[i * d + j];
                sum[j] += x;
                sq[j] += x * x;
            }
        }
        float[] mean = new float[d];
        float[] std = new float[d];
        for (int j = 0; j < d; j++) {
            double mu = sum[j] / f.count();
            mean[j] = (float) mu;
            std[j] = (float) Math.max(1e-6, Math.sqrt(Math.max(0, sq[j] / f.count() - mu * mu)));
        }
        return new float[][] {mean, std};
    }

    private static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * Refuses labels that hold a single class: a probe trained on one class predicts it everywhere, and its top-1 is
     * only that class's share of the test split (a folder sorted by class, cut to its first N files before --limit
     * drew a stratified subset, gave 0.20 with no warning).
     *
     * @param what what the labels are, for the message
     * @throws UserException naming the one class
     */
    public static void requireSeveralClasses(int[] labels, String what) {
        if (labels.length == 0) {
            throw new UserException(what + " is empty: a linear probe needs examples of at least two classes");
        }
        for (int l : labels) {
            if (l != labels[0]) {
                return;
            }
        }
        throw new UserException(what + " holds one class only (label " + labels[0] + ", " + labels.length
                + " examples): a linear probe needs at least two classes in it");
    }

    private static int maxLabel(int[] labels) {
        int max = 0;
        for (int l : labels) {
            max = Math.max(max, l);
        }
        return max;
    }
}
