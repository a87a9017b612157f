package ai.coopt.collab;

import ai.coopt.optimize.Matrix;
import ai.coopt.optimize.RidgeAlignment;
import ai.coopt.optimize.Uniformity;
import ai.coopt.store.Rows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which participants' outputs are fused, and which one is the reference space. One participant that sends noise
 * must not spoil the dataset for everyone: noise is the most uniform output there is, so uniformity alone would
 * elect it the reference and map every honest participant into it. The same rules serve {@code coopt collab} and
 * the networked platform; what they look at is only what a participant uploaded:
 *
 * <ol>
 *   <li><b>Degenerate outputs on S</b> are excluded: the same row for every image, or fewer than half the rows
 *       distinct.</li>
 *   <li><b>Independent priors</b>: healthy participants whose outputs on S are the same ({@link #sameOutputs}, to
 *       {@value #SAME_PRIOR_TOLERANCE} relative) brought the same prior, e.g. one public model: they are all kept (each
 *       fuses its own shards) and form one group, which the rules below count as one vote and judge as one. The same
 *       prior twice neither excludes an honest party nor gives a prior two votes. A participant that copies another's
 *       outputs on S joins that group and gains nothing by it; the rows it uploads for its shards must still agree
 *       with those outputs ({@link #shardDisagreement}, and the platform's audits).</li>
 *   <li><b>Agreement</b> (with three or more independent priors): a group must be predicted by at least
 *       {@code max(1, ⌊(h − 1) / 2⌋)} of the other h − 1 groups, "predicted" meaning a 5-fold cross-validated
 *       R² of at least {@value #MIN_R2} for a ridge map from the other's outputs on S to its own (on at most 300 rows,
 *       outputs wider than 64 randomly projected to 64 dimensions, so that K(K−1) fits stay cheap). It is judged only
 *       when each fold trains on at least twice as many rows of S as the widest (projected) output is wide: fewer,
 *       and honest priors' fits match their training rows exactly and predict the rest by chance. Noise is predicted
 *       by nobody; honest priors of the same images predict each other; a minority of colluders that predict only
 *       each other fall short of the majority.</li>
 *   <li><b>The reference</b> is the most uniform trusted group's first participant, by a uniformity this class computes from the
 *       uploaded outputs (a self-reported value is never used), among those whose best R² lies within
 *       {@value #REFERENCE_MARGIN} of the trusted participants' median: mostly-noise outputs that others still
 *       predict a little are very uniform, and must not become the space everyone is mapped into. With exactly two
 *       groups whose outputs do not predict each other, no majority can tell which is right; the reference is then
 *       taken from the group more participants brought (when their sizes differ): noise beside two participants of one
 *       public prior is not elected. With fewer than three trusted groups, or without the agreement rule (S too
 *       small), the reference is <b>unverified</b> ({@link Result#referenceVerified}).</li>
 *   <li><b>Alignment outliers</b> (with three or more trusted groups besides the reference's): a group whose
 *       ridge fit residual into the reference space on S exceeds {@code median + k · max(1.4826 · MAD, floor)} of all
 *       of them, with k = {@value #OUTLIER_K} and floor {@value #MIN_SPREAD}, is excluded.</li>
 * </ol>
 *
 * {@link #shardDisagreement} is the check between a participant's shard and its own outputs on S: both are random
 * samples of the same images, so their statistics must agree within sampling error.
 */
public final class Screening {
    /** The least cross-validated R² by which another participant must predict one. */
    public static final double MIN_R2 = 0.05;
    /** How many robust deviations above the median an alignment residual may lie. */
    public static final double OUTLIER_K = 5;
    /**
     * The least spread assumed for alignment residuals: honest priors of different architectures and training fit the
     * reference space unequally (residuals 0.1 to 0.3 apart in the honest runs), so only a participant at least
     * {@code OUTLIER_K × MIN_SPREAD} = 0.5 above the median is an outlier.
     */
    public static final double MIN_SPREAD = 0.1;
    /** How far below the trusted participants' median agreement (best R²) a reference candidate may lie. */
    public static final double REFERENCE_MARGIN = 0.25;
    /**
     * How far apart (relative Frobenius norm over S) two participants' outputs may be and still be one prior's. One
     * prior on the same images differs between machines, thread counts and kernels by float32 rounding (about 1e-5
     * relative across batchings on CPU, the audit's own observation; reduced-precision GPU math such as TF32, about
     * 1e-3); two different priors, even of one architecture and seed family, put their features in different
     * coordinates and differ by order 1. 1e-2 lies a decade above the first and far below the second.
     */
    public static final double SAME_PRIOR_TOLERANCE = 1e-2;
    private static final int FOLDS = 5;
    /** The widest the agreement's ridge fits see a participant's outputs (wider ones are randomly projected). */
    private static final int SKETCH_DIM = 64;
    /** Rows of S the agreement is computed on (the first ones; S is a seeded random subset). */
    private static final int MAX_ROWS = 300;

    /**
     * The judgement on one participant.
     *
     * @param uniformity computed here from its outputs on S (lower = more uniform)
     * @param bestR2 the best cross-validated R² by which another participant predicts it (NaN when not computed)
     * @param predictedBy how many other participants predict it (-1 when not computed)
     * @param residual its ridge fit residual into the reference space on S (NaN when not computed)
     * @param group index (into the outputs) of the first participant with the same outputs on S, its independent
     *              prior's group (its own index when it is the first); -1 when it was excluded before grouping
     */
    public record Verdict(String participant, String prior, boolean trusted, String reason, double uniformity,
                          double bestR2, int predictedBy, double residual, int group) {}

    /**
     * The judgement on all participants.
     *
     * @param outputs the outputs as given, with the computed uniformity in place of the reported one
     * @param reference index (into {@code outputs}) of the most uniform trusted group's first participant, -1 when
     *                  none is trusted
     * @param referenceVerified whether the agreement rule ran and at least three trusted independent priors remain:
     *                          otherwise nothing but uniformity (and, between two, numbers) chose the reference
     * @param independentPriors how many trusted groups of participants with the same outputs on S remain
     * @param residualThreshold the outlier threshold on alignment residuals, NaN when too few to judge
     * @param notes what the screening could not judge, and why
     */
    public record Result(List<SharedOutputs> outputs, List<Verdict> verdicts, int reference, boolean referenceVerified,
                         int independentPriors, double residualMedian, double residualThreshold, List<String> notes) {
        /** The verdicts of participants left out, in input order. */
        public List<Verdict> excluded() {
            return verdicts.stream().filter(v -> !v.trusted()).toList();
        }

        /**
         * The first participant whose outputs on S are the same as {@code participant}'s (its independent prior's
         * group), or null when it is that first one itself, or took no part in the grouping.
         */
        public String samePriorAs(String participant) {
            for (Verdict v : verdicts) {
                if (v.participant().equals(participant)) {
                    return v.group() < 0 || verdicts.get(v.group()).participant().equals(participant) ? null
                            : verdicts.get(v.group()).participant();
                }
            }
            return null;
        }

        public boolean trusted(String participant) {
            return verdicts.stream().anyMatch(v -> v.participant().equals(participant) && v.trusted());
        }

        /** "p-1 (random:convnet-s): reason", one line per excluded participant. */
        public List<String> reasons() {
            return excluded().stream().map(v -> v.participant() + " (" + v.prior() + ") is excluded: " + v.reason()).toList();
        }
    }

    private Screening() {}

    /** Judges every participant's outputs on S (all the same rows of S, in the same order). */
    public static Result screen(List<SharedOutputs> given) {
        return screen(given, Map.of());
    }

    /**
     * Judges every participant's outputs on S; the participants in {@code excluded} (id → reason, e.g. a shard that
     * failed its audit) are excluded before anything else: they take no part in the agreement and cannot be the
     * reference.
     */
    public static Result screen(List<SharedOutputs> given, Map<String, String> excluded) {
        int k = given.size();
        List<SharedOutputs> outputs = new ArrayList<>();
        double[] uniformity = new double[k];
        for (int i = 0; i < k; i++) {
            SharedOutputs s = given.get(i);
            if (i > 0 && s.count() != given.get(0).count()) {
                throw new IllegalArgumentException(s.participant() + " sent " + s.count() + " rows on S, not "
                        + given.get(0).count());
            }
            uniformity[i] = s.count() >= 2 ? Uniformity.ofOutputs(s.values(), s.count(), s.dim()) : 0;
            PriorReport p = s.prior();
            outputs.add(new SharedOutputs(s.participant(), p.withUniformity(uniformity[i], s.count()), s.values(),
                    s.seconds(), s.uniformitySeconds()));
        }
        String[] reasons = new String[k];
        for (int i = 0; i < k; i++) {
            reasons[i] = excluded.containsKey(given.get(i).participant()) ? excluded.get(given.get(i).participant())
                    : degenerate(outputs.get(i));
        }
        // independent priors: healthy participants with the same outputs on S form one group, led by its first member
        int[] group = new int[k];
        Arrays.fill(group, -1);
        List<Integer> heads = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            if (reasons[i] != null) {
                continue;
            }
            group[i] = i;
            for (int j : heads) {
                if (sameOutputs(outputs.get(j), outputs.get(i))) {
                    group[i] = j;
                    break;
                }
            }
            if (group[i] == i) {
                heads.add(i);
            }
        }
        int[] size = new int[k];
        for (int i = 0; i < k; i++) {
            if (group[i] >= 0) {
                size[group[i]]++;
            }
        }
        double[] best = new double[k];
        int[] predictedBy = new int[k];
        Arrays.fill(best, Double.NaN);
        Arrays.fill(predictedBy, -1);
        int m = k == 0 ? 0 : Math.min(MAX_ROWS, outputs.get(0).count());
        int h = heads.size();
        List<String> notes = new ArrayList<>();
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
        boolean agreementJudged = h >= 3 && m >= needRows;
        // with two independent priors that disagree, no majority can say which is right: the reference comes from the
        // one more participants brought (when they brought it in unequal numbers), and stays unverified
        int onlyGroup = -1;
        if (h >= 2 && m >= needRows) {
            // each group's first m rows of S, at most SKETCH_DIM wide: the fits stay cheap at any width
            float[][] sketch = new float[k][];
            int[] sketchDim = new int[k];
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
                    count += r2 >= MIN_R2 ? 1 : 0;
                }
                best[i] = top;
                predictedBy[i] = count;
                if (agreementJudged && count < need) {
                    reasons[i] = String.format(Locale.ROOT, "its outputs on S are predicted by %d of the %d other "
                            + "independent priors, fewer than the %d required (best cross-validated R² %.3f, at least "
                            + "%.2f counts): noise, or a prior unrelated to the data", count, h - 1, need, top, MIN_R2);
                }
            }
            if (h == 2) {
                int a = heads.get(0);
                int b = heads.get(1);
                if ((predictedBy[a] == 0 || predictedBy[b] == 0) && size[a] != size[b]) {
                    onlyGroup = size[a] > size[b] ? a : b;
                    int other = onlyGroup == a ? b : a;
                    notes.add(String.format(Locale.ROOT, "%s's and %s's outputs on S do not predict each other (R² %.3f"
                            + " and %.3f) and two independent priors cannot say which is right: the reference is taken "
                            + "from the prior %d participants brought, not from the one %d brought, and is unverified",
                            outputs.get(a).participant(), outputs.get(b).participant(), best[a], best[b], size[onlyGroup],
                            size[other]));
                }
            }
            // a group's members share its judgement
            for (int i = 0; i < k; i++) {
                if (group[i] >= 0 && group[i] != i) {
                    best[i] = best[group[i]];
                    predictedBy[i] = predictedBy[group[i]];
                    reasons[i] = reasons[group[i]];
                }
            }
        }
        // reference candidates: trusted, and predicted about as well as the trusted priors typically are
        List<Double> agreement = new ArrayList<>();
        for (int i : heads) {
            if (reasons[i] == null && !Double.isNaN(best[i])) {
                agreement.add(best[i]);
            }
        }
        double floor = agreement.isEmpty() ? Double.NEGATIVE_INFINITY : median(agreement) - REFERENCE_MARGIN;
        int reference = -1;
        for (int i : heads) {
            boolean candidate = reasons[i] == null && (Double.isNaN(best[i]) || best[i] >= floor)
                    && (onlyGroup < 0 || i == onlyGroup);
            if (candidate && (reference < 0 || uniformity[i] < uniformity[reference])) {
                reference = i;
            }
        }
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
            for (int i : heads) {
                if (reasons[i] == null && i != reference) {
                    values.add(residual[i]);
                }
            }
            if (values.size() >= 3) {
                median = median(values);
                double med = median;
                double mad = median(values.stream().map(v -> Math.abs(v - med)).toList());
                threshold = median + OUTLIER_K * Math.max(1.4826 * mad, MIN_SPREAD);
                for (int i = 0; i < k; i++) {
                    if (reasons[i] == null && group[i] != reference && residual[group[i]] > threshold) {
                        reasons[i] = String.format(Locale.ROOT, "its alignment residual on S (%.3f) is an outlier: above"
                                + " median %.3f + %.0f × max(1.4826 × MAD, %.2f) = %.3f", residual[group[i]], median,
                                OUTLIER_K, MIN_SPREAD, threshold);
                    }
                }
            }
        }
        int independent = (int) heads.stream().filter(i -> reasons[i] == null).count();
        boolean verified = reference >= 0 && agreementJudged && independent >= 3;
        List<Verdict> verdicts = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            verdicts.add(new Verdict(outputs.get(i).participant(), outputs.get(i).prior().prior(), reasons[i] == null,
                    reasons[i], uniformity[i], best[i], predictedBy[i], i == reference ? 0 : residual[i], group[i]));
        }
        return new Result(List.copyOf(outputs), List.copyOf(verdicts), reference, verified, independent, median,
                threshold, List.copyOf(notes));
    }

    /**
     * Why a participant's rows of one shard disagree with its own outputs on S beyond sampling error, or empty. Both
     * are random samples of the same images, so the centroid and the total variance must agree: the squared centroid
     * shift over the total variance of S must stay below {@code max(0.05, 25 · (1/m + 1/n))} (its expectation is
     * 1/m + 1/n), and the log of the ratio of total variances within {@code max(0.5, 6 · sqrt(2/m + 2/n))}. Scaled,
     * shifted or replaced rows fail; a shard that is honest but small passes. Reads the rows once, a block at a time.
     */
    public static Optional<String> shardDisagreement(SharedOutputs shared, Rows rows) {
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

    private static Matrix matrix(SharedOutputs s) {
        return new Matrix(s.values(), s.count(), s.dim());
    }

    private static double median(List<Double> values) {
        double[] s = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Why these outputs on S are degenerate, or null. */
    private static String degenerate(SharedOutputs s) {
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
        return null;
    }

    /**
     * Whether two participants' outputs on S are the same prior's: as wide, and {@code ‖a − b‖ ≤ }{@value
     * #SAME_PRIOR_TOLERANCE}{@code  · max(‖a‖, ‖b‖)} over all rows (Frobenius norms).
     */
    static boolean sameOutputs(SharedOutputs a, SharedOutputs b) {
        if (a.dim() != b.dim() || a.count() != b.count()) {
            return false;
        }
        float[] x = a.values();
        float[] y = b.values();
        double diff = 0;
        double nx = 0;
        double ny = 0;
        for (int i = 0; i < x.length; i++) {
            double e = (double) x[i] - y[i];
            diff += e * e;
            nx += (double) x[i] * x[i];
            ny += (double) y[i] * y[i];
        }
        return Math.sqrt(diff) <= SAME_PRIOR_TOLERANCE * Math.sqrt(Math.max(nx, ny));
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
