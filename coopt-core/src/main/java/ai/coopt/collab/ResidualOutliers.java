package ai.coopt.collab;

import ai.coopt.optimize.Matrix;
import ai.coopt.optimize.RidgeAlignment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@link Screening}'s last rule, alignment outliers: with three or more trusted groups besides the reference's, a group
 * whose ridge fit residual into the reference space on S exceeds {@code median + k · max(1.4826 · MAD, floor)} of all
 * of them, with k = {@value Screening#OUTLIER_K} and floor {@value Screening#MIN_SPREAD}, is excluded.
 *
 * @param residual per participant, its ridge fit residual into the reference space on S (NaN when not computed)
 * @param median the residuals' median, NaN when too few to judge
 * @param threshold the outlier threshold, NaN when too few to judge
 */
record ResidualOutliers(double[] residual, double median, double threshold) {
    /**
     * Fits every participant still trusted ({@code reasons[i] == null}) into the {@code reference} space (none when it
     * is -1) and gives each member of an outlying group its reason.
     */
    static ResidualOutliers judge(List<SharedOutputs> outputs, PriorGroups groups, String[] reasons, int reference) {
        int k = outputs.size();
        int[] group = groups.group();
        double[] residual = new double[k];
        Arrays.fill(residual, Double.NaN);
        double median = Double.NaN;
        double threshold = Double.NaN;
        if (reference >= 0) {
            Matrix ref = matrix(outputs.get(reference));
            for (int i = 0; i < k; i++) {
                if (reasons[i] == null && i != reference) {
                    residual[i] = RidgeAlignment.fit(matrix(outputs.get(i)), ref).relativeResidual();
                }
            }
            // one value per independent prior other than the reference's
            List<Double> values = new ArrayList<>();
            for (int i : groups.heads()) {
                if (reasons[i] == null && i != reference) {
                    values.add(residual[i]);
                }
            }
            if (values.size() >= 3) {
                median = Screening.median(values);
                double med = median;
                double mad = Screening.median(values.stream().map(v -> Math.abs(v - med)).toList());
                threshold = median + Screening.OUTLIER_K * Math.max(1.4826 * mad, Screening.MIN_SPREAD);
                for (int i = 0; i < k; i++) {
                    if (reasons[i] == null && group[i] != reference && residual[group[i]] > threshold) {
                        reasons[i] = String.format(Locale.ROOT, "its alignment residual on S (%.3f) is an outlier: above"
                                + " median %.3f + %.0f × max(1.4826 × MAD, %.2f) = %.3f", residual[group[i]], median,
                                Screening.OUTLIER_K, Screening.MIN_SPREAD, threshold);
                    }
                }
            }
        }
        return new ResidualOutliers(residual, median, threshold);
    }

    private static Matrix matrix(SharedOutputs s) {
        return new Matrix(s.values(), s.count(), s.dim());
    }
}
