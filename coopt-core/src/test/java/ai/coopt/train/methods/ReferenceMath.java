package ai.coopt.train.methods;

/** Vector arithmetic in doubles for the reference implementations that the loss tests check {@code Losses} against. */
final class ReferenceMath {
    private ReferenceMath() {}

    static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }

    static double[] scaled(double[] v, double factor) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] * factor;
        }
        return out;
    }

    /** {@code v} scaled to unit L2 norm. */
    static double[] unit(double[] v) {
        return scaled(v, 1 / Math.sqrt(dot(v, v)));
    }

    /** The 2N contrastive anchors: the rows of {@code a} and then of {@code b} (N each), scaled to unit norm. */
    static double[][] anchors(double[][] a, double[][] b) {
        int n = a.length;
        double[][] z = new double[2 * n][];
        for (int i = 0; i < n; i++) {
            z[i] = unit(a[i]);
            z[n + i] = unit(b[i]);
        }
        return z;
    }

    /** {@code log Σ_i exp(x_i)}, the maximum taken out first so that nothing overflows. */
    static double logSumExp(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : x) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    /** The rows, row after row, in floats: the layout of an R×C {@code NDArray}. */
    static float[] flat(double[][] rows) {
        float[] out = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < rows[i].length; j++) {
                out[i * rows[i].length + j] = (float) rows[i][j];
            }
        }
        return out;
    }
}
