package ai.coopt.optimize;

import ai.coopt.UserException;
import ai.coopt.store.Rows;
import java.util.stream.IntStream;

/**
 * The uniformity value of a set of embeddings (Wang &amp; Isola 2020), which CoOpt uses to rank
 * priors on the shared subset:
 * {@code V = log( mean over pairs i < j of exp(−t · ||x̂_i − x̂_j||²) )}, where {@code x̂} are the
 * L2-normalised rows. V lies in [−4t, 0]: 0 when all points coincide, lower when they spread more
 * evenly over the sphere. <b>Lower is more uniform, which marks the better prior.</b>
 *
 * <p>Exact over all n(n − 1)/2 pairs: squared distances come from a Gram matrix in double
 * ({@code ||a − b||² = ||a||² + ||b||² − 2a·b}, which is {@code 2 − 2a·b} for unit rows) and the
 * mean of exponentials is taken with a log-sum-exp in double. Rows are processed in parallel but
 * each row's partial sum is computed in a fixed order and the partial sums are combined in row
 * order, so the value is deterministic. Costs n²·d/2 multiply-adds: about a tenth of a second for
 * n = 1,000, d = 512.
 *
 * <p><b>Priors are ranked by {@link #ofOutputs}, the value of their outputs centred on the set first.</b> Wang &amp;
 * Isola measure a contrastive head's outputs, which training spreads over the sphere around the origin. A prior's
 * outputs are backbone features (after ReLU and pooling) that sit in a narrow cone far from the origin; uncentred, the
 * value mostly measures how far the cone's mean lies from the origin, not how the images spread. On Fashion-MNIST it
 * ranked a 20-second SimCLR prior (probe 81.9%) above a 300-second BYOL prior (84.1%) and a random network last by a
 * wide margin; centred, the BYOL prior ranks first (BENCHMARKS.md, issue 14). Centring is invariant to a shift of all
 * outputs, which a prior's users cannot see either (the targets are centred by PCA).
 */
public final class Uniformity {
    /** The temperature t used by Wang &amp; Isola and by CoOpt. */
    public static final double DEFAULT_T = 2;

    private Uniformity() {
    }

    /**
     * How a prior's outputs are ranked: the uniformity value ({@link #DEFAULT_T}) of the rows {@code subset} of
     * {@code x} (read from disk when {@code x} lives there), centred on the subset first.
     */
    public static double ofOutputs(Rows x, int[] subset) {
        float[] rows = new float[Math.multiplyExact(subset.length, x.dim())];
        x.gather(subset, rows);
        return ofOutputs(rows, subset.length, x.dim());
    }

    /**
     * How a prior's outputs are ranked: the uniformity value ({@link #DEFAULT_T}) of {@code n} rows of dimension
     * {@code d} after subtracting their mean row (in double; {@code x} is not changed).
     *
     * @throws UserException if a row holds a NaN or an infinity
     */
    public static double ofOutputs(float[] x, int n, int d) {
        if (n < 2 || d < 1 || x.length != (long) n * d) {
            return value(x, n, d, DEFAULT_T);
        }
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                mean[j] += x[i * d + j];
            }
        }
        float[] centred = new float[x.length];
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
            if (!Double.isFinite(mean[j])) {
                throw new UserException("uniformity input column " + j + " holds a non-finite value: the prior produced NaN or infinity");
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                centred[i * d + j] = (float) (x[i * d + j] - mean[j]);
            }
        }
        return value(centred, n, d, DEFAULT_T);
    }

    /**
     * The uniformity value of {@code n} rows of dimension {@code d}.
     *
     * @param x n × d row-major; a zero row stays zero (distance 1 to every unit row)
     * @param t temperature, positive ({@link #DEFAULT_T} = 2)
     * @throws IllegalArgumentException if n &lt; 2, t ≤ 0 or the array does not hold n × d values
     * @throws UserException if a row holds a NaN or an infinity
     */
    public static double value(float[] x, int n, int d, double t) {
        if (n < 2) {
            throw new IllegalArgumentException("uniformity needs at least 2 points, not " + n);
        }
        if (d < 1 || x.length != (long) n * d) {
            throw new IllegalArgumentException("expected " + n + " × " + d + " values, not " + x.length);
        }
        if (!(t > 0) || Double.isInfinite(t)) {
            throw new IllegalArgumentException("uniformity temperature must be positive and finite, not " + t);
        }
        double[] unit = normalisedRows(x, n, d);
        double[] squaredNorm = new double[n];
        for (int i = 0; i < n; i++) {
            squaredNorm[i] = dot(unit, i * d, unit, i * d, d);
        }
        double[] rowMax = new double[n - 1];
        double[] rowSum = new double[n - 1];
        IntStream.range(0, n - 1).parallel().forEach(i -> {
            double[] exponent = new double[n - 1 - i];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = i + 1; j < n; j++) {
                double squared = squaredNorm[i] + squaredNorm[j] - 2 * dot(unit, i * d, unit, j * d, d);
                double e = -t * Math.max(0, squared);
                exponent[j - i - 1] = e;
                max = Math.max(max, e);
            }
            double sum = 0;
            for (double e : exponent) {
                sum += Math.exp(e - max);
            }
            rowMax[i] = max;
            rowSum[i] = sum;
        });
        double max = Double.NEGATIVE_INFINITY;
        for (double m : rowMax) {
            max = Math.max(max, m);
        }
        double sum = 0;
        for (int i = 0; i < n - 1; i++) {
            sum += rowSum[i] * Math.exp(rowMax[i] - max);
        }
        double pairs = n * (n - 1.0) / 2;
        return max + Math.log(sum) - Math.log(pairs);
    }

    /** The rows of {@code x} divided by their L2 norms, in double; zero rows stay zero. */
    private static double[] normalisedRows(float[] x, int n, int d) {
        double[] unit = new double[n * d];
        for (int i = 0; i < n; i++) {
            double squared = 0;
            for (int j = 0; j < d; j++) {
                double v = x[i * d + j];
                squared += v * v;
            }
            if (!Double.isFinite(squared)) {
                throw new UserException("uniformity input row " + i + " holds a non-finite value: the prior produced NaN or infinity");
            }
            double norm = Math.sqrt(squared);
            for (int j = 0; j < d; j++) {
                unit[i * d + j] = norm > 0 ? x[i * d + j] / norm : 0;
            }
        }
        return unit;
    }

    /** a[ao .. ao + d) · b[bo .. bo + d), with four partial sums (a fixed order, faster than one). */
    private static double dot(double[] a, int ao, double[] b, int bo, int d) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int j = 0;
        for (; j + 3 < d; j += 4) {
            s0 += a[ao + j] * b[bo + j];
            s1 += a[ao + j + 1] * b[bo + j + 1];
            s2 += a[ao + j + 2] * b[bo + j + 2];
            s3 += a[ao + j + 3] * b[bo + j + 3];
        }
        for (; j < d; j++) {
            s0 += a[ao + j] * b[bo + j];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
