package ai.coopt.optimize;

import ai.coopt.store.Rows;

/**
 * Per-dimension standardisation of targets to zero mean and unit variance over the whole
 * dataset, as ReLA does after PCA. Means and population standard deviations (divisor N) are
 * accumulated in double, in row order, in two passes, so they are deterministic. A dimension whose
 * standard deviation is below {@value #MIN_STD} is only centred: its standard deviation is recorded
 * as 1.
 */
public final class Standardization {
    /** Standard deviations below this count as a constant dimension. */
    public static final double MIN_STD = 1e-12;

    private final double[] mean;
    private final double[] std;

    private Standardization(double[] mean, double[] std) {
        this.mean = mean;
        this.std = std;
    }

    /**
     * Computes the statistics of the columns of {@code x}, which must have at least one row, in two passes over
     * it (in memory or on disk, a block at a time).
     */
    public static Standardization fit(Rows x) {
        int n = x.count();
        int d = x.dim();
        if (n < 1) {
            throw new IllegalArgumentException("standardisation needs at least one row");
        }
        int block = Rows.blockRows(d);
        double[] mean = new double[d];
        x.forEachBlock(block, (first, rows, v) -> {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < d; j++) {
                    mean[j] += v[i * d + j];
                }
            }
        });
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
        }
        double[] squares = new double[d];
        x.forEachBlock(block, (first, rows, v) -> {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < d; j++) {
                    double c = v[i * d + j] - mean[j];
                    squares[j] += c * c;
                }
            }
        });
        double[] std = new double[d];
        for (int j = 0; j < d; j++) {
            double s = Math.sqrt(squares[j] / n);
            std[j] = s < MIN_STD ? 1 : s;
        }
        return new Standardization(mean, std);
    }

    /** Fits the statistics of {@code x}, standardises {@code x} in place and returns the statistics. */
    public static Standardization standardize(Matrix x) {
        Standardization s = fit(x);
        s.apply(x);
        return s;
    }

    /** Replaces every element of {@code x} by (x − mean) / std of its column, in place. */
    public void apply(Matrix x) {
        checkDim(x.cols());
        apply(x.values(), 0, x.rows());
    }

    /** Standardises {@code rows} rows of {@code v} from index {@code offset}, in place. */
    private void apply(float[] v, int offset, int rows) {
        int d = mean.length;
        for (int i = 0; i < rows; i++) {
            int at = offset + i * d;
            for (int j = 0; j < d; j++) {
                v[at + j] = (float) ((v[at + j] - mean[j]) / std[j]);
            }
        }
    }

    /** {@code x} standardised as it is read: nothing is copied, and any number of rows works. */
    public Rows view(Rows x) {
        checkDim(x.dim());
        return x.onRead((first, n, dst, offset) -> apply(dst, offset, n));
    }

    private void checkDim(int d) {
        if (d != mean.length) {
            throw new IllegalArgumentException("standardisation was fitted on " + mean.length + " dimensions, not " + d);
        }
    }

    /** The column means (a copy). */
    public double[] mean() {
        return mean.clone();
    }

    /** The column standard deviations, 1 for constant columns (a copy). */
    public double[] std() {
        return std.clone();
    }
}
