package ai.coopt.collab;

import ai.coopt.store.Rows;

import java.util.Locale;
import java.util.Optional;

/**
 * {@link Screening}'s check of a participant's rows of one shard against its own outputs on S: both are random samples
 * of the same images, so their statistics must agree within sampling error.
 */
final class ShardDisagreement {
    private ShardDisagreement() {}

    /**
     * Why a participant's rows of one shard disagree with its own outputs on S beyond sampling error, or empty. Both
     * are random samples of the same images, so the centroid and the total variance must agree: the squared centroid
     * shift over the total variance of S must stay below {@code max(0.05, 25 · (1/m + 1/n))} (its expectation is
     * 1/m + 1/n), and the log of the ratio of total variances within {@code max(0.5, 6 · sqrt(2/m + 2/n))}. Scaled,
     * shifted or replaced rows fail; a shard that is honest but small passes. Reads the rows once, a block at a time.
     */
    static Optional<String> of(SharedOutputs shared, Rows rows) {
        int d = shared.dim();
        int m = shared.count();
        int n = rows.count();
        if (rows.dim() != d) {
            return Optional.of("its shard rows are " + rows.dim() + " wide and its outputs on S " + d);
        }
        if (m < 2 || n < 2) {
            return Optional.empty();
        }
        double[] meanS = new double[d];
        float[] v = shared.values();
        for (int r = 0; r < m; r++) {
            for (int c = 0; c < d; c++) {
                meanS[c] += v[r * d + c];
            }
        }
        double varS = 0;
        for (int c = 0; c < d; c++) {
            meanS[c] /= m;
        }
        for (int r = 0; r < m; r++) {
            for (int c = 0; c < d; c++) {
                double x = v[r * d + c] - meanS[c];
                varS += x * x;
            }
        }
        varS /= m - 1;
        // shard sums around S's mean (shifted sums keep precision): Σ(x − μ_S) and Σ(x − μ_S)² per column
        double[] sum = new double[d];
        double[] squares = new double[d];
        rows.forEachBlock(Rows.blockRows(d), (first, count, values) -> {
            for (int r = 0; r < count; r++) {
                for (int c = 0; c < d; c++) {
                    double x = values[r * d + c] - meanS[c];
                    sum[c] += x;
                    squares[c] += x * x;
                }
            }
        });
        double shift = 0;
        double varX = 0;
        for (int c = 0; c < d; c++) {
            double delta = sum[c] / n;
            shift += delta * delta;
            varX += (squares[c] - n * delta * delta) / (n - 1);
        }
        if (varS <= 0) {
            return varX <= 0 ? Optional.empty() : Optional.of("its outputs on S are constant but its shard's are not");
        }
        double relativeShift = shift / varS;
        double shiftLimit = Math.max(0.05, 25 * (1.0 / m + 1.0 / n));
        if (relativeShift > shiftLimit) {
            return Optional.of(String.format(Locale.ROOT, "its shard's mean output lies %.3f total variances from its "
                    + "mean on S (sampling allows %.3f)", relativeShift, shiftLimit));
        }
        double logRatio = varX <= 0 ? Double.NEGATIVE_INFINITY : Math.log(varX / varS);
        double ratioLimit = Math.max(0.5, 6 * Math.sqrt(2.0 / m + 2.0 / n));
        if (!(Math.abs(logRatio) <= ratioLimit)) {
            return Optional.of(String.format(Locale.ROOT, "its shard's outputs vary %.3g times as much as its outputs on S"
                    + " (sampling allows %.3g to %.3g)", varX / varS, Math.exp(-ratioLimit), Math.exp(ratioLimit)));
        }
        return Optional.empty();
    }
}
