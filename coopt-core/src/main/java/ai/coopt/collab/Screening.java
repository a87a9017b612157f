package ai.coopt.collab;

import ai.coopt.optimize.Uniformity;
import ai.coopt.store.Rows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which participants' outputs are fused, and which one is the reference space. One participant that sends noise
 * must not spoil the dataset for everyone: noise is the most uniform output there is, so uniformity alone would
 * elect it the reference and map every honest participant into it. The same rules serve {@code coopt collab} and
 * the networked platform; what they look at is only what a participant uploaded:
 *
 * <ol>
 *   <li><b>Degenerate outputs on S</b> are excluded: the same row for every image, or fewer than half the rows
 *       distinct.</li>
 *   <li><b>Independent priors</b>: healthy participants whose outputs on S are the same ({@link PriorGroups#sameOutputs}, to
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
                    : PriorGroups.degenerate(outputs.get(i));
        }
        PriorGroups groups = PriorGroups.of(outputs, reasons);
        List<Integer> heads = groups.heads();
        List<String> notes = new ArrayList<>();
        Agreement agreement = Agreement.judge(outputs, groups, reasons, notes);
        double[] best = agreement.best();
        int reference = reference(heads, reasons, best, uniformity, agreement.onlyGroup());
        ResidualOutliers outliers = ResidualOutliers.judge(outputs, groups, reasons, reference);
        int independent = (int) heads.stream().filter(i -> reasons[i] == null).count();
        boolean verified = reference >= 0 && agreement.judged() && independent >= 3;
        List<Verdict> verdicts = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            verdicts.add(new Verdict(outputs.get(i).participant(), outputs.get(i).prior().prior(), reasons[i] == null,
                    reasons[i], uniformity[i], best[i], agreement.predictedBy()[i],
                    i == reference ? 0 : outliers.residual()[i], groups.group()[i]));
        }
        return new Result(List.copyOf(outputs), List.copyOf(verdicts), reference, verified, independent,
                outliers.median(), outliers.threshold(), List.copyOf(notes));
    }

    /**
     * The most uniform trusted group's first participant among those predicted about as well as the trusted priors
     * typically are (and from {@code onlyGroup} when it is not -1), or -1.
     */
    private static int reference(List<Integer> heads, String[] reasons, double[] best, double[] uniformity,
                                 int onlyGroup) {
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
        return reference;
    }

    /**
     * Why a participant's rows of one shard disagree with its own outputs on S beyond sampling error, or empty
     * ({@link ShardDisagreement}: the centroid and the total variance must agree). Reads the rows once, a block at a
     * time.
     */
    public static Optional<String> shardDisagreement(SharedOutputs shared, Rows rows) {
        return ShardDisagreement.of(shared, rows);
    }

    /** The fewest rows of S whose every fold's training part holds at least twice {@code width} rows. */
    static int minRowsForWidth(int width) {
        return Agreement.minRowsForWidth(width);
    }

    static double median(List<Double> values) {
        double[] s = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
