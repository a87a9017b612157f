package ai.coopt.optimize;

import java.util.Arrays;

import ai.coopt.UserException;
import ai.coopt.engine.Engines;
import ai.coopt.engine.NativeWork;
import ai.coopt.engine.Staging;
import ai.coopt.engine.SymmetricEigen;
import ai.coopt.store.RowSink;
import ai.coopt.store.Rows;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.stream.IntStream;

/**
 * Principal component analysis of prior outputs, as ReLA reduces them to the student's target
 * dimension: the top-{@code k} eigenvectors of the sample covariance (divisor N − 1), in order of
 * decreasing eigenvalue.
 *
 * <p>The covariance is accumulated in float64 by the engine's matrix multiply on the CPU (whatever
 * device training uses), in blocks of rows of a size that depends only on the dimension; the mean
 * is summed in Java in row order; the symmetric eigen-decomposition is the engine's LAPACK
 * ({@link SymmetricEigen}); the projection is again an engine float64 matrix multiply, rounded to
 * float once at the end. On the engine shipped with this project (PyTorch 2.7.1 CPU) fit and
 * transform are deterministic at a given number of intra-op threads: the same input gives the same
 * bits from run to run and from process to process (on the same CPU model: another instruction set
 * may make the BLAS choose other kernels). Another thread count may change the decomposition in
 * its last bits (measured: 3,000 × 512 outputs to 64 dimensions, 1 against 2 threads, targets
 * within 1.2e-7 of each other). Each eigenvector's sign is fixed so that its entry of largest
 * magnitude (the first such entry on a tie) is positive, and equal eigenvalues keep the
 * decomposition's order.
 */
public final class Pca {
    /** Elements of one block of rows sent to the engine: 32 MiB as float64. */
    private static final int BLOCK_ELEMENTS = 1 << 22;

    private final double[] mean;
    private final double[] components;
    private final double[] explainedVariance;
    private final double totalVariance;
    private final int k;

    private Pca(double[] mean, double[] components, double[] explainedVariance, double totalVariance) {
        this.mean = mean;
        this.components = components;
        this.explainedVariance = explainedVariance;
        this.totalVariance = totalVariance;
        this.k = explainedVariance.length;
    }

    /**
     * Fits the top {@code k} principal components of the rows of {@code x}.
     *
     * @param x N × D prior outputs, N ≥ 2
     * @param k number of components, 1 ≤ k ≤ min(D, N)
     * @throws IllegalArgumentException if the shape or {@code k} is out of range
     * @throws UserException if {@code x} holds a NaN or an infinity
     */
    public static Pca fit(Rows x, int k) {
        requireFittable(x, k);
        double[] mean = mean(x);
        return fromCovariance(mean, covariance(x, mean, blockRows(x.dim())), k);
    }

    /**
     * Projects the rows of {@code x} on the components: (x − mean) · componentsᵀ.
     *
     * @param x M × D rows in the input space this PCA was fitted on
     * @return M × k scores; column {@code c} has (on the fitted data) variance
     *     {@code explainedVariance()[c]}
     */
    public Matrix transform(Matrix x) {
        return transform(x, blockRows(x.cols()));
    }

    /** The in-memory transform, in blocks of {@code blockRows} rows. */
    Matrix transform(Matrix x, int blockRows) {
        Matrix.Filler out = Matrix.filler(x.rows(), k);
        transform(x, blockRows, out);
        return out.matrix();
    }

    /**
     * Projects the rows of {@code x} into {@code out}, block by block, in order: any number of rows passes through
     * memory one block at a time.
     */
    public void transform(Rows x, RowSink out) {
        transform(x, blockRows(x.dim()), out);
    }

    /** Relative eigenvalue below which a component counts as carrying no variance (float32 outputs' noise floor). */
    public static final double RANK_TOLERANCE = 1e-6;

    /**
     * The number of components whose variance exceeds {@link #RANK_TOLERANCE} times the largest:
     * the numerical rank of the centred data, as far as this PCA's {@code k} components show it.
     */
    public int rank() {
        double largest = k == 0 ? 0 : explainedVariance[0];
        int r = 0;
        while (r < k && explainedVariance[r] > RANK_TOLERANCE * largest) {
            r++;
        }
        return r;
    }

    /** The same fit keeping only the first {@code m} components (1 ≤ m ≤ k). */
    public Pca first(int m) {
        if (m < 1 || m > k) {
            throw new IllegalArgumentException("can keep 1 to " + k + " components, not " + m);
        }
        return new Pca(mean, Arrays.copyOf(components, m * mean.length), Arrays.copyOf(explainedVariance, m),
                totalVariance);
    }

    /** Number of components kept: the dimension of the transformed rows. */
    public int k() {
        return k;
    }

    /** Dimension D of the rows this PCA was fitted on. */
    public int inputDim() {
        return mean.length;
    }

    /** The per-dimension mean subtracted before projecting (a copy, length D). */
    public double[] mean() {
        return mean.clone();
    }

    /** The components, k × D row-major, one unit vector per row (a copy). */
    public double[] components() {
        return components.clone();
    }

    /** Variance of the data along each component: the covariance's eigenvalues, negatives from rounding clipped to 0 (a copy). */
    public double[] explainedVariance() {
        return explainedVariance.clone();
    }

    /** Total variance of the data: the trace of the covariance. */
    public double totalVariance() {
        return totalVariance;
    }

    /** Fraction of the total variance kept by the k components; 1 when the data has no variance. */
    public double explainedVarianceRatioSum() {
        if (totalVariance == 0) {
            return 1;
        }
        double kept = 0;
        for (double v : explainedVariance) {
            kept += v;
        }
        return kept / totalVariance;
    }

    /** Checks what {@link #fit} needs of its arguments. */
    static void requireFittable(Rows x, int k) {
        if (x.count() < 2 || x.dim() < 1) {
            throw new IllegalArgumentException("PCA needs at least 2 rows and 1 column, not " + x.count() + " × " + x.dim());
        }
        if (k < 1 || k > Math.min(x.count(), x.dim())) {
            throw new IllegalArgumentException(
                    "PCA components must be between 1 and min(rows, dims) = " + Math.min(x.count(), x.dim()) + ", not " + k);
        }
    }

    /** Rows per engine block for rows of dimension {@code d}. */
    static int blockRows(int d) {
        return Math.max(1, BLOCK_ELEMENTS / d);
    }

    /** Column means, summed in double in row order; rejects non-finite values. */
    static double[] mean(Rows x) {
        int n = x.count();
        int d = x.dim();
        double[] sum = new double[d];
        x.forEachBlock(blockRows(d), (first, rows, v) -> {
            for (int i = 0; i < rows; i++) {
                int row = i * d;
                for (int j = 0; j < d; j++) {
                    sum[j] += v[row + j];
                }
            }
        });
        for (int j = 0; j < d; j++) {
            if (!Double.isFinite(sum[j])) {
                throw nonFinite(x);
            }
            sum[j] /= n;
        }
        return sum;
    }

    /**
     * The sample covariance (divisor N − 1), D × D row-major and exactly symmetric: Σ (x − mean)ᵀ(x − mean)
     * accumulated in float64 over consecutive blocks of {@code blockRows} rows.
     */
    static double[] covariance(Rows x, double[] mean, int blockRows) {
        int n = x.count();
        int d = x.dim();
        double[] s;
        try (NDManager manager = Engines.get().newBaseManager(Device.cpu())) {
            NDArray mu = manager.create(mean);
            NDArray sum = manager.zeros(new Shape(d, d), DataType.FLOAT64);
            Staging staging = new Staging();
            x.forEachBlock(blockRows, (first, rows, values) -> {
                try (NativeWork section = NativeWork.enter(); NDManager block = manager.newSubManager()) {
                    NDArray c = centred(block, staging, values, rows, d, mu);
                    sum.addi(c.transpose().matMul(c));
                }
            });
            s = sum.toDoubleArray();
        }
        for (int i = 0; i < d; i++) {
            s[i * d + i] /= n - 1;
            for (int j = i + 1; j < d; j++) {
                double v = (s[i * d + j] + s[j * d + i]) / 2 / (n - 1);
                s[i * d + j] = v;
                s[j * d + i] = v;
            }
        }
        return s;
    }

    /** Eigen-decomposes the D × D covariance and keeps the top {@code k} components. */
    static Pca fromCovariance(double[] mean, double[] covariance, int k) {
        int d = mean.length;
        double trace = 0;
        for (int i = 0; i < d; i++) {
            trace += covariance[i * d + i];
        }
        SymmetricEigen.Result eig = SymmetricEigen.of(covariance, d);
        double[] values = eig.values();
        int[] order = descending(values);
        double[] components = new double[k * d];
        double[] explained = new double[k];
        for (int c = 0; c < k; c++) {
            System.arraycopy(eig.vectors(), order[c] * d, components, c * d, d);
            fixSign(components, c * d, d);
            explained[c] = Math.max(0, values[order[c]]);
        }
        return new Pca(mean, components, explained, trace);
    }

    /** The transform, in blocks of {@code blockRows} rows. */
    void transform(Rows x, int blockRows, RowSink out) {
        int d = inputDim();
        if (x.dim() != d) {
            throw new IllegalArgumentException("PCA was fitted on " + d + "-dimensional rows, not " + x.dim());
        }
        double[] wt = new double[d * k];
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < d; j++) {
                wt[j * k + c] = components[c * d + j];
            }
        }
        try (NDManager manager = Engines.get().newBaseManager(Device.cpu())) {
            NDArray mu = manager.create(mean);
            NDArray w = manager.create(wt, new Shape(d, k));
            Staging staging = new Staging();
            float[] scores = new float[Math.multiplyExact(Math.min(blockRows, Math.max(1, x.count())), k)];
            x.forEachBlock(blockRows, (first, rows, values) -> {
                try (NativeWork section = NativeWork.enter(); NDManager block = manager.newSubManager()) {
                    NDArray y = centred(block, staging, values, rows, d, mu).matMul(w).toType(DataType.FLOAT32, false);
                    // a view of the engine's result, copied into one reused array (no new array per block)
                    y.toByteBuffer().asFloatBuffer().get(scores, 0, rows * k);
                    out.write(scores, 0, rows);
                }
            });
        }
    }

    /** The first {@code rows} rows of {@code values} as float64, minus {@code mu}, in {@code manager}. */
    private static NDArray centred(NDManager manager, Staging staging, float[] values, int rows, int d, NDArray mu) {
        return staging.create(manager, values, 0, new Shape(rows, d)).toType(DataType.FLOAT64, false).sub(mu);
    }

    /** Indices of {@code values} from largest to smallest value; equal values keep index order. */
    private static int[] descending(double[] values) {
        return IntStream.range(0, values.length).boxed()
                .sorted((a, b) -> {
                    int byValue = Double.compare(values[b], values[a]);
                    return byValue != 0 ? byValue : Integer.compare(a, b);
                })
                .mapToInt(Integer::intValue).toArray();
    }

    /** Negates {@code v[from .. from + d)} unless its first entry of largest magnitude is positive. */
    private static void fixSign(double[] v, int from, int d) {
        int largest = from;
        for (int j = from + 1; j < from + d; j++) {
            if (Math.abs(v[j]) > Math.abs(v[largest])) {
                largest = j;
            }
        }
        if (v[largest] < 0) {
            for (int j = from; j < from + d; j++) {
                v[j] = -v[j];
            }
        }
    }

    /** The error for the first non-finite value of {@code x}, which must hold one. */
    private static UserException nonFinite(Rows x) {
        int d = x.dim();
        UserException[] found = new UserException[1];
        x.forEachBlock(blockRows(d), (first, rows, v) -> {
            for (int i = 0; i < rows * d && found[0] == null; i++) {
                if (!Float.isFinite(v[i])) {
                    found[0] = new UserException("PCA input row " + (first + i / d) + ", dimension " + i % d + " is "
                            + v[i] + ": the prior produced a non-finite output");
                }
            }
        });
        return found[0] != null ? found[0] : new UserException("PCA input sums overflowed: the prior's outputs are too large");
    }
}
