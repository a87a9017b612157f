package ai.coopt.report;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Exact t-SNE (van der Maaten and Hinton, 2008) to a low-dimensional map, in plain Java, single-threaded and
 * deterministic for a seed. O(N²) time and memory: meant for maps of a few thousand points at most.
 *
 * <p>Each point's input affinities are Gaussian, with a bandwidth found by binary search so that their entropy
 * is {@code log(perplexity)}; they are symmetrised and normalised to one joint distribution P. The map starts
 * from small seeded Gaussian coordinates and follows the KL(P‖Q) gradient (Student-t Q) with momentum and
 * per-coordinate gains, P multiplied by {@code exaggeration} for the first {@code exaggerationIterations}.
 *
 * <p>Degenerate inputs: duplicated rows are allowed (they end up at nearly the same spot); fewer than 4 points,
 * non-finite values, or a perplexity above {@code (N − 1) / 3} are refused with an {@link IllegalArgumentException}.
 */
final class Tsne {
    /**
     * @param learningRate the step size; 0 for {@code max(N / exaggeration / 4, 50)} (Belkina et al., 2019: a
     *                     fixed 200 overshoots on small maps and is slow on large ones)
     * @param klEvery record KL(P‖Q) every this many iterations (0: only after the last one)
     */
    record Settings(int dims, double perplexity, int iterations, double learningRate, double exaggeration,
                    int exaggerationIterations, int klEvery, long seed) {
        /** Two dimensions, 1,000 iterations, the automatic learning rate, exaggeration 12 for 250 iterations. */
        static Settings of(double perplexity, long seed) {
            return new Settings(2, perplexity, 1000, 0, 12, 250, 0, seed);
        }

        Settings withKlEvery(int every) {
            return new Settings(dims, perplexity, iterations, learningRate, exaggeration, exaggerationIterations, every, seed);
        }

        Settings withIterations(int n) {
            return new Settings(dims, perplexity, n, learningRate, exaggeration, exaggerationIterations, klEvery, seed);
        }
    }

    /** One KL(P‖Q) measurement, after {@code iteration} iterations (P without exaggeration). */
    record Kl(int iteration, double value) {}

    /** @param points {@code N × dims} map coordinates, centred on the origin */
    record Result(double[][] points, List<Kl> kl) {}

    private static final double MIN_GAIN = 0.01;
    private static final double TINY = 1e-12;

    private Tsne() {}

    static Result run(double[][] x, Settings s) {
        int n = x.length;
        if (n < 4) {
            throw new IllegalArgumentException("t-SNE needs at least 4 points, not " + n);
        }
        if (!(s.perplexity() >= 1) || s.perplexity() > (n - 1) / 3.0) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "t-SNE perplexity %.3g is outside [1, (N - 1) / 3 = %.3g] for %d points", s.perplexity(), (n - 1) / 3.0, n));
        }
        if (s.dims() < 1 || s.iterations() < 1 || !(s.learningRate() >= 0) || !(s.exaggeration() >= 1)) {
            throw new IllegalArgumentException("t-SNE settings out of range: " + s);
        }
        double[] p = jointProbabilities(squaredDistances(x), n, s.perplexity());
        return optimise(p, n, s);
    }

    /** The full {@code N × N} matrix of squared Euclidean distances, row-major. */
    static double[] squaredDistances(double[][] x) {
        int n = x.length;
        int d = x[0].length;
        for (double[] row : x) {
            if (row.length != d) {
                throw new IllegalArgumentException("t-SNE rows differ in length: " + d + " and " + row.length);
            }
            for (double v : row) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("t-SNE input holds a non-finite value: " + v);
                }
            }
        }
        double[] dist = new double[n * n];
        for (int i = 0; i < n; i++) {
            double[] a = x[i];
            for (int j = i + 1; j < n; j++) {
                double[] b = x[j];
                double sum = 0;
                for (int k = 0; k < d; k++) {
                    double t = a[k] - b[k];
                    sum += t * t;
                }
                dist[i * n + j] = sum;
                dist[j * n + i] = sum;
            }
        }
        return dist;
    }

    /**
     * Conditional affinities p(j|i) with each row's entropy at {@code log(perplexity)} (binary search on the
     * precision), then symmetrised: {@code P = (p(j|i) + p(i|j)) / 2N}, floored at 1e-12.
     */
    static double[] jointProbabilities(double[] dist, int n, double perplexity) {
        double target = Math.log(perplexity);
        double[] p = new double[n * n];
        double[] row = new double[n];
        for (int i = 0; i < n; i++) {
            // distances relative to the nearest other point: exp() never underflows to an all-zero row
            double nearest = Double.POSITIVE_INFINITY;
            double mean = 0;
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    nearest = Math.min(nearest, dist[i * n + j]);
                    mean += dist[i * n + j];
                }
            }
            mean /= n - 1;
            double beta = mean > nearest ? 1 / (mean - nearest) : 1;
            double lo = 0;
            double hi = Double.POSITIVE_INFINITY;
            for (int step = 0; step < 200; step++) {
                double sum = 0;
                double weighted = 0;
                for (int j = 0; j < n; j++) {
                    if (j == i) {
                        row[j] = 0;
                        continue;
                    }
                    double dj = dist[i * n + j] - nearest;
                    double e = Math.exp(-beta * dj);
                    row[j] = e;
                    sum += e;
                    weighted += dj * e;
                }
                double entropy = Math.log(sum) + beta * weighted / sum;
                for (int j = 0; j < n; j++) {
                    row[j] /= sum;
                }
                double diff = entropy - target;
                if (Math.abs(diff) < 1e-6) {
                    break;
                }
                if (diff > 0) {
                    lo = beta;
                    beta = hi == Double.POSITIVE_INFINITY ? beta * 2 : (beta + hi) / 2;
                } else {
                    hi = beta;
                    beta = (beta + lo) / 2;
                }
            }
            System.arraycopy(row, 0, p, i * n, n);
        }
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double v = Math.max((p[i * n + j] + p[j * n + i]) / (2.0 * n), TINY);
                p[i * n + j] = v;
                p[j * n + i] = v;
            }
            p[i * n + i] = 0;
        }
        return p;
    }

    private static Result optimise(double[] p, int n, Settings s) {
        int dims = s.dims();
        double rate = s.learningRate() > 0 ? s.learningRate() : Math.max(n / s.exaggeration() / 4, 50);
        SplittableRandom random = new SplittableRandom(s.seed());
        double[] y = new double[n * dims];
        for (int i = 0; i < y.length; i++) {
            y[i] = 1e-4 * gaussian(random);
        }
        double[] update = new double[n * dims];
        double[] gains = new double[n * dims];
        java.util.Arrays.fill(gains, 1);
        double[] attract = new double[n * dims];
        double[] repel = new double[n * dims];
        double[] diff = new double[dims];
        List<Kl> kl = new ArrayList<>();
        for (int it = 0; it < s.iterations(); it++) {
            boolean early = it < s.exaggerationIterations();
            double exaggeration = early ? s.exaggeration() : 1;
            double momentum = early ? 0.5 : 0.8;
            java.util.Arrays.fill(attract, 0);
            java.util.Arrays.fill(repel, 0);
            // one pass over the pairs: dC/dy_i = 4 Σ_j (P_ij - q_ij) w_ij (y_i - y_j), with w_ij = 1 / (1 + |y_i - y_j|²)
            // and q_ij = w_ij / Z, split as Σ P_ij w_ij (y_i - y_j) - (1/Z) Σ w_ij² (y_i - y_j): Z is not needed first
            double z = 0;
            for (int i = 0; i < n; i++) {
                int yi = i * dims;
                for (int j = i + 1; j < n; j++) {
                    int yj = j * dims;
                    double d2 = 0;
                    for (int k = 0; k < dims; k++) {
                        double t = y[yi + k] - y[yj + k];
                        diff[k] = t;
                        d2 += t * t;
                    }
                    double w = 1 / (1 + d2);
                    z += 2 * w;
                    double a = exaggeration * p[i * n + j] * w;
                    double r = w * w;
                    for (int k = 0; k < dims; k++) {
                        attract[yi + k] += a * diff[k];
                        attract[yj + k] -= a * diff[k];
                        repel[yi + k] += r * diff[k];
                        repel[yj + k] -= r * diff[k];
                    }
                }
            }
            for (int c = 0; c < y.length; c++) {
                double grad = 4 * (attract[c] - repel[c] / z);
                gains[c] = Math.signum(grad) != Math.signum(update[c]) ? gains[c] + 0.2 : Math.max(gains[c] * 0.8, MIN_GAIN);
                update[c] = momentum * update[c] - rate * gains[c] * grad;
                y[c] += update[c];
            }
            centre(y, n, dims);
            int done = it + 1;
            if (done == s.iterations() || (s.klEvery() > 0 && done % s.klEvery() == 0)) {
                kl.add(new Kl(done, divergence(p, y, n, dims)));
            }
        }
        double[][] points = new double[n][dims];
        for (int i = 0; i < n; i++) {
            System.arraycopy(y, i * dims, points[i], 0, dims);
        }
        return new Result(points, List.copyOf(kl));
    }

    /** KL(P‖Q) of the map {@code y}: Σ_{i≠j} P_ij log(P_ij / q_ij). */
    static double divergence(double[] p, double[] y, int n, int dims) {
        double z = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                z += 2 / (1 + squaredDistance(y, i, j, dims));
            }
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double pij = p[i * n + j];
                double q = Math.max(1 / (1 + squaredDistance(y, i, j, dims)) / z, TINY);
                sum += 2 * pij * Math.log(pij / q);
            }
        }
        return sum;
    }

    private static double squaredDistance(double[] y, int i, int j, int dims) {
        double d2 = 0;
        for (int k = 0; k < dims; k++) {
            double t = y[i * dims + k] - y[j * dims + k];
            d2 += t * t;
        }
        return d2;
    }

    private static void centre(double[] y, int n, int dims) {
        for (int k = 0; k < dims; k++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += y[i * dims + k];
            }
            mean /= n;
            for (int i = 0; i < n; i++) {
                y[i * dims + k] -= mean;
            }
        }
    }

    /** A standard normal draw (Box-Muller), from the seeded generator alone. */
    private static double gaussian(SplittableRandom random) {
        double u = 1 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
