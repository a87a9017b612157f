package ai.coopt.collab;

import ai.coopt.target.Matrix;
import ai.coopt.target.RidgeAlignment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which participants may be the reference space. Uniformity alone can be gamed: random noise is the most uniform
 * output there is, and a reference of noise maps every honest participant into noise. A participant is eligible when
 * its outputs on S are not degenerate (constant, mostly repeated rows, a copy of an earlier participant's) and, with
 * three or more participants, when some other participant's outputs predict them: the cross-validated R² of a ridge
 * map from the other's outputs to its own is at least {@value #MIN_R2} (noise is predicted by nobody; two honest
 * priors of the same images predict each other well).
 */
final class Agreement {
    /** The least cross-validated R² by which another participant must predict a reference candidate. */
    static final double MIN_R2 = 0.05;
    private static final int FOLDS = 5;
    /** Rows of S the agreement is computed on (the first ones; S is a seeded random subset). */
    private static final int MAX_ROWS = 300;

    /** @param bestR2 the best cross-validated R² by which another participant predicts this one (NaN when not computed) */
    record Verdict(boolean eligible, String reason, double bestR2) {}

    private Agreement() {}

    static List<Verdict> judge(List<SharedOutputs> outputs) {
        int k = outputs.size();
        String[] reasons = new String[k];
        for (int i = 0; i < k; i++) {
            reasons[i] = degenerate(outputs, i);
        }
        int m = Math.min(MAX_ROWS, outputs.get(0).count());
        long healthy = Arrays.stream(reasons).filter(r -> r == null).count();
        double[] best = new double[k];
        Arrays.fill(best, Double.NaN);
        if (healthy >= 3 && m >= 2 * FOLDS) {
            for (int i = 0; i < k; i++) {
                if (reasons[i] != null) {
                    continue;
                }
                double top = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < k; j++) {
                    if (j != i && reasons[j] == null) {
                        top = Math.max(top, crossValidatedR2(outputs.get(j), outputs.get(i), m));
                    }
                }
                best[i] = top;
            }
            for (int i = 0; i < k; i++) {
                if (reasons[i] == null && best[i] < MIN_R2) {
                    reasons[i] = String.format(Locale.ROOT, "no other participant predicts its outputs on S (best "
                            + "cross-validated R² %.3f < %.2f): noise, or a prior unrelated to the data", best[i], MIN_R2);
                }
            }
        }
        List<Verdict> out = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            out.add(new Verdict(reasons[i] == null, reasons[i], best[i]));
        }
        return out;
    }

    /** Why participant i's outputs on S are degenerate, or null. */
    private static String degenerate(List<SharedOutputs> outputs, int i) {
        SharedOutputs s = outputs.get(i);
        int n = s.count();
        int d = s.dim();
        float[] v = s.values();
        double spread = 0;
        double size = 0;
        for (int c = 0; c < d; c++) {
            double mean = 0;
            for (int r = 0; r < n; r++) {
                mean += v[r * d + c];
            }
            mean /= n;
            for (int r = 0; r < n; r++) {
                double x = v[r * d + c];
                spread += (x - mean) * (x - mean);
                size += x * x;
            }
        }
        if (spread <= 1e-10 * Math.max(size, 1e-30)) {
            return "its outputs on S are the same for every image";
        }
        Set<Integer> distinct = new HashSet<>();
        for (int r = 0; r < n; r++) {
            distinct.add(Arrays.hashCode(Arrays.copyOfRange(v, r * d, (r + 1) * d)));
        }
        if (distinct.size() < 0.5 * n) {
            return String.format(Locale.ROOT, "only %d of its %d outputs on S are distinct", distinct.size(), n);
        }
        for (int j = 0; j < i; j++) {
            SharedOutputs o = outputs.get(j);
            if (o.dim() == d && Arrays.equals(o.values(), v)) {
                return "its outputs on S are a copy of " + o.participant() + "'s";
            }
        }
        return null;
    }

    /** R² of predicting {@code target}'s first m rows from {@code source}'s by ridge, over {@value #FOLDS} folds. */
    private static double crossValidatedR2(SharedOutputs source, SharedOutputs target, int m) {
        int p = source.dim();
        int q = target.dim();
        double sse = 0;
        double sst = 0;
        for (int f = 0; f < FOLDS; f++) {
            int test = 0;
            for (int r = 0; r < m; r++) {
                test += r % FOLDS == f ? 1 : 0;
            }
            int train = m - test;
            float[] xs = new float[train * p];
            float[] ys = new float[train * q];
            float[] xt = new float[test * p];
            float[] yt = new float[test * q];
            int a = 0;
            int b = 0;
            for (int r = 0; r < m; r++) {
                if (r % FOLDS == f) {
                    System.arraycopy(source.values(), r * p, xt, b * p, p);
                    System.arraycopy(target.values(), r * q, yt, b * q, q);
                    b++;
                } else {
                    System.arraycopy(source.values(), r * p, xs, a * p, p);
                    System.arraycopy(target.values(), r * q, ys, a * q, q);
                    a++;
                }
            }
            double[] mean = new double[q];
            for (int r = 0; r < train; r++) {
                for (int c = 0; c < q; c++) {
                    mean[c] += ys[r * q + c];
                }
            }
            for (int c = 0; c < q; c++) {
                mean[c] /= train;
            }
            float[] predicted;
            try {
                predicted = RidgeAlignment.fit(new Matrix(xs, train, p), new Matrix(ys, train, q))
                        .apply(new Matrix(xt, test, p)).values();
            } catch (IllegalArgumentException e) {
                return Double.NEGATIVE_INFINITY; // a source that is constant on these rows predicts nothing
            }
            for (int r = 0; r < test; r++) {
                for (int c = 0; c < q; c++) {
                    double y = yt[r * q + c];
                    double e = y - predicted[r * q + c];
                    sse += e * e;
                    sst += (y - mean[c]) * (y - mean[c]);
                }
            }
        }
        return sst > 0 ? 1 - sse / sst : Double.NEGATIVE_INFINITY;
    }
}
