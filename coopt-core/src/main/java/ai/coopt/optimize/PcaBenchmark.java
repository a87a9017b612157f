package ai.coopt.optimize;

import java.util.SplittableRandom;

/**
 * Wall-clock cost of {@link Pca} on synthetic prior outputs, phase by phase. The data (Gaussian,
 * dimension j scaled by 1/√(1 + j), offset by 0.5) is generated before timing starts, and a small
 * fit warms up the engine so that loading its native library is not counted.
 */
public final class PcaBenchmark {
    /**
     * Seconds per phase of one fit and transform.
     *
     * @param rows number of rows N
     * @param dims input dimension D
     * @param components number of components k
     * @param centerCovarianceSeconds mean and covariance (engine float64 matrix multiply)
     * @param eigenSeconds symmetric eigen-decomposition of the D × D covariance (the engine's LAPACK)
     * @param projectionSeconds transform of all rows to k dimensions
     * @param totalSeconds the three phases end to end
     * @param explainedVarianceRatioSum fraction of the variance the k components keep
     */
    public record Timings(int rows, int dims, int components, double centerCovarianceSeconds, double eigenSeconds,
                          double projectionSeconds, double totalSeconds, double explainedVarianceRatioSum) {}

    private PcaBenchmark() {
    }

    /** Fits {@code components} components on {@code rows} × {@code dims} random rows from {@code seed} and projects them. */
    public static Timings run(int rows, int dims, int components, long seed) {
        Matrix x = synthetic(rows, dims, seed);
        Pca.requireFittable(x, components);
        Pca.fit(synthetic(16, 4, seed), 2).transform(synthetic(16, 4, seed));

        long t0 = System.nanoTime();
        double[] mean = Pca.mean(x);
        double[] covariance = Pca.covariance(x, mean, Pca.blockRows(dims));
        long t1 = System.nanoTime();
        Pca pca = Pca.fromCovariance(mean, covariance, components);
        long t2 = System.nanoTime();
        pca.transform(x);
        long t3 = System.nanoTime();
        return new Timings(rows, dims, components, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, (t3 - t0) / 1e9,
                pca.explainedVarianceRatioSum());
    }

    private static Matrix synthetic(int rows, int dims, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] scale = new double[dims];
        for (int j = 0; j < dims; j++) {
            scale[j] = 1 / Math.sqrt(1 + j);
        }
        float[] v = new float[Math.multiplyExact(rows, dims)];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < dims; j++) {
                v[i * dims + j] = (float) (0.5 + scale[j] * random.nextGaussian());
            }
        }
        return new Matrix(v, rows, dims);
    }
}
