package ai.coopt.collab;

import ai.coopt.optimize.Matrix;
import ai.coopt.optimize.RidgeAlignment;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@link Screening}'s agreement rule: with three or more independent priors, a group must be predicted by at least
 * {@code max(1, ⌊(h − 1) / 2⌋)} of the other h − 1 groups, "predicted" meaning a {@value #FOLDS}-fold cross-validated
 * R² of at least {@value Screening#MIN_R2} for a ridge map from the other's outputs on S to its own (on at most
 * {@value #MAX_ROWS} rows, outputs wider than {@value #SKETCH_DIM} randomly projected). It is judged only when each
 * fold trains on at least twice as many rows of S as the widest (projected) output is wide ({@link #minRowsForWidth}).
 * Between two groups whose outputs do not predict each other, it names the group more participants brought.
 *
 * @param best per participant, the best cross-validated R² by which another group predicts its group (NaN when not
 *             computed)
 * @param predictedBy per participant, how many other groups predict its group (-1 when not computed)
 * @param judged whether the rule ran: three or more groups, and S large enough
 * @param onlyGroup with two groups that do not predict each other and were brought by unequal numbers, the first
 *                  member of the larger one (the only group the reference may come from); else -1
 */
record Agreement(double[] best, int[] predictedBy, boolean judged, int onlyGroup) {
    static final int FOLDS = 5;
    /** The widest the agreement's ridge fits see a participant's outputs (wider ones are randomly projected). */
    private static final int SKETCH_DIM = 64;
    /** Rows of S the agreement is computed on (the first ones; S is a seeded random subset). */
    private static final int MAX_ROWS = 300;

    /**
     * Judges the groups' agreement; a group predicted by too few others gets its reason in {@code reasons} (shared by
     * its members), and what could not be judged goes to {@code notes}.
     */
    static Agreement judge(List<SharedOutputs> outputs, PriorGroups groups, String[] reasons, List<String> notes) {
        int k = outputs.size();
        List<Integer> heads = groups.heads();
        double[] best = new double[k];
        int[] predictedBy = new int[k];
        Arrays.fill(best, Double.NaN);
        Arrays.fill(predictedBy, -1);
        int m = k == 0 ? 0 : Math.min(MAX_ROWS, outputs.get(0).count());
        int h = heads.size();
        // a ridge fit from a source about as wide as the rows it is fitted on matches them exactly and predicts held-out
        // rows by chance: honest priors would then "disagree" (R² below zero). So each fold trains on at least twice
        // as many rows as the widest source's (sketched) width, else agreement is not judged at all
        int widest = 0;
        for (int i : heads) {
            widest = Math.max(widest, Math.min(SKETCH_DIM, outputs.get(i).dim()));
        }
        int needRows = Math.max(2 * FOLDS, minRowsForWidth(widest));
        if (h >= 3 && m < needRows) {
            notes.add("agreement between participants was not judged: S has " + m + " rows, outputs " + widest
                    + " wide need at least " + needRows + " (raise --shared-fraction or --shared-count); noise or an "
                    + "unrelated prior would go unnoticed and may become the reference");
        }
        boolean judged = h >= 3 && m >= needRows;
        // with two independent priors that disagree, no majority can say which is right: the reference comes from the
        // one more participants brought (when they brought it in unequal numbers), and stays unverified
        int onlyGroup = -1;
        if (h >= 2 && m >= needRows) {
            predict(outputs, heads, m, judged, best, predictedBy, reasons);
            if (h == 2) {
                onlyGroup = largerOfTwo(outputs, groups, best, predictedBy, notes);
            }
            // a group's members share its judgement
            int[] group = groups.group();
            for (int i = 0; i < k; i++) {
                if (group[i] >= 0 && group[i] != i) {
                    best[i] = best[group[i]];
                    predictedBy[i] = predictedBy[group[i]];
                    reasons[i] = reasons[group[i]];
                }
            }
        }
        return new Agreement(best, predictedBy, judged, onlyGroup);
    }

    /**
     * Fits every group from every other on the first m rows of S; when {@code judged}, a group predicted by fewer than
     * the majority gets its reason.
     */
    private static void predict(List<SharedOutputs> outputs, List<Integer> heads, int m, boolean judged, double[] best,
                                int[] predictedBy, String[] reasons) {
        int h = heads.size();
        // each group's first m rows of S, at most SKETCH_DIM wide: the fits stay cheap at any width
        float[][] sketch = new float[outputs.size()][];
        int[] sketchDim = new int[outputs.size()];
        for (int i : heads) {
            sketchDim[i] = Math.min(SKETCH_DIM, outputs.get(i).dim());
            sketch[i] = sketch(outputs.get(i), m);
        }
        int need = Math.max(1, (h - 1) / 2);
        for (int i : heads) {
            double top = Double.NEGATIVE_INFINITY;
            int count = 0;
            for (int j : heads) {
                if (j == i) {
                    continue;
                }
                double r2 = crossValidatedR2(sketch[j], sketchDim[j], sketch[i], sketchDim[i], m);
                top = Math.max(top, r2);
                count += r2 >= Screening.MIN_R2 ? 1 : 0;
            }
            best[i] = top;
            predictedBy[i] = count;
            if (judged && count < need) {
                reasons[i] = String.format(Locale.ROOT, "its outputs on S are predicted by %d of the %d other "
                        + "independent priors, fewer than the %d required (best cross-validated R² %.3f, at least "
                        + "%.2f counts): noise, or a prior unrelated to the data", count, h - 1, need, top,
                        Screening.MIN_R2);
            }
        }
    }

    /**
     * Of two groups, when either's outputs are predicted by nobody and more participants brought one of them, that
     * one's first member (the note says so); else -1.
     */
    private static int largerOfTwo(List<SharedOutputs> outputs, PriorGroups groups, double[] best, int[] predictedBy,
                                   List<String> notes) {
        int[] size = groups.size();
        int a = groups.heads().get(0);
        int b = groups.heads().get(1);
        if ((predictedBy[a] == 0 || predictedBy[b] == 0) && size[a] != size[b]) {
            int onlyGroup = size[a] > size[b] ? a : b;
            int other = onlyGroup == a ? b : a;
            notes.add(String.format(Locale.ROOT, "%s's and %s's outputs on S do not predict each other (R² %.3f"
                    + " and %.3f) and two independent priors cannot say which is right: the reference is taken "
                    + "from the prior %d participants brought, not from the one %d brought, and is unverified",
                    outputs.get(a).participant(), outputs.get(b).participant(), best[a], best[b], size[onlyGroup],
                    size[other]));
            return onlyGroup;
        }
        return -1;
    }

    /**
     * A participant's first m rows of S, as they are when at most {@value #SKETCH_DIM} wide, else projected to
     * {@value #SKETCH_DIM} dimensions by a fixed Gaussian matrix (seeded by the width, so the same for every run): a
     * random projection keeps what linearly predicts what (noise stays unpredictable), and bounds each ridge fit.
     */
    private static float[] sketch(SharedOutputs s, int m) {
        int d = s.dim();
        float[] v = s.values();
        if (d <= SKETCH_DIM) {
            return Arrays.copyOf(v, m * d);
        }
        java.util.SplittableRandom r = new java.util.SplittableRandom(0x5CE7C4L * 31 + d);
        float[] projection = new float[d * SKETCH_DIM];
        for (int i = 0; i < projection.length; i++) {
            projection[i] = (float) (r.nextGaussian() / Math.sqrt(SKETCH_DIM));
        }
        float[] out = new float[m * SKETCH_DIM];
        for (int row = 0; row < m; row++) {
            for (int c = 0; c < d; c++) {
                float x = v[row * d + c];
                for (int j = 0; j < SKETCH_DIM; j++) {
                    out[row * SKETCH_DIM + j] += x * projection[c * SKETCH_DIM + j];
                }
            }
        }
        return out;
    }

    /** The fewest rows of S whose every fold's training part holds at least twice {@code width} rows. */
    static int minRowsForWidth(int width) {
        int m = 2 * width;
        while (m - (m + FOLDS - 1) / FOLDS < 2 * width) {
            m++;
        }
        return m;
    }

    /** R² of predicting {@code target}'s m rows (q wide) from {@code source}'s (p wide) by ridge, over {@value #FOLDS} folds. */
    private static double crossValidatedR2(float[] sourceValues, int p, float[] targetValues, int q, int m) {
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
                    System.arraycopy(sourceValues, r * p, xt, b * p, p);
                    System.arraycopy(targetValues, r * q, yt, b * q, q);
                    b++;
                } else {
                    System.arraycopy(sourceValues, r * p, xs, a * p, p);
                    System.arraycopy(targetValues, r * q, ys, a * q, q);
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
