package ai.coopt.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;

import java.util.ArrayList;
import java.util.List;

/**
 * Loss functions on batches of vectors.
 *
 * <p>Every loss is differentiable through DJL autograd in the arguments that the method it belongs to trains, and
 * takes the others as constants ({@link NDArray#stopGradient()}), whether or not the caller detached them already.
 * Softmaxes go through a log-sum-exp with the row maximum subtracted or through {@link NDArray#logSoftmax(int)}, so
 * that logits of any size give finite values. Intermediate arrays are attached to the managers of the arguments: run
 * a loss in a sub-manager that the caller closes (the training loop has one per step).
 */
public final class Losses {
    private static final float EPS = 1e-8f;
    /** Subtracted from a logit to take it out of a softmax: exp of it underflows to exactly 0. */
    private static final float EXCLUDED = 1e9f;

    private Losses() {}

    /** Rows scaled to unit L2 norm. */
    public static NDArray l2Normalize(NDArray x) {
        return x.div(x.norm(new int[] {1}, true).maximum(EPS));
    }

    /** Mean over the batch of {@code 1 - cos(a_i, b_i)}: the ReLA regression loss. */
    public static NDArray cosineDistance(NDArray a, NDArray b) {
        return meanCosine(a, b).neg().add(1f);
    }

    /**
     * SimSiam's {@code D(p, z) = -(1/N) Σ_i cos(p_i, z_i)} (Chen and He 2021, "Exploring Simple Siamese
     * Representation Learning"), in [-1, 1]: p (N×D) is the predictor's output for one view, z (N×D) the projection
     * of the other, taken as a constant as in the paper's {@code D(p, stopgrad(z))}. The method's loss is
     * {@code D(p1, z2)/2 + D(p2, z1)/2}.
     */
    public static NDArray negativeCosine(NDArray p, NDArray z) {
        return meanCosine(p, z.stopGradient()).neg();
    }

    /**
     * Mean over the batch of {@code ||â_i - b̂_i||² = 2 - 2 cos(a_i, b_i)} (â: unit-norm row): BYOL's
     * normalised squared error, in [0, 4].
     */
    public static NDArray normalizedSquaredError(NDArray a, NDArray b) {
        return cosineDistance(a, b).mul(2f);
    }

    /**
     * NT-Xent (Chen et al. 2020) over the 2N rows of {@code a} (N×D) and {@code b} (N×D): row i of
     * {@code a} and row i of {@code b} are a positive pair, the other 2N-2 rows are negatives. With
     * {@code s} the cosine similarity, the loss is the mean over all 2N anchors i of
     * {@code -log(exp(s(i, pos(i))/τ) / Σ_{k≠i} exp(s(i, k)/τ))}.
     */
    public static NDArray ntXent(NDArray a, NDArray b, float temperature) {
        int rows = 2 * (int) a.getShape().get(0);
        NDArray z = l2Normalize(NDArrays.concat(new NDList(a, b)));
        NDArray logits = z.matMul(z.transpose()).div(temperature)
                .sub(z.getManager().eye(rows).mul(EXCLUDED));
        NDArray positives = z.mul(swapHalves(z)).sum(new int[] {1}).div(temperature);
        return logSumExp(logits).sub(positives).mean();
    }

    /**
     * InfoNCE with a queue of negatives, as in MoCo (He et al. 2020, "Momentum Contrast for Unsupervised Visual
     * Representation Learning"; MoCo v2: Chen et al. 2020). With {@code q̂_i}, {@code k̂_i} the rows of {@code q} and
     * {@code k} (N×D) scaled to unit norm and {@code u_j} the rows of {@code queue} (Q×D, unit norm already), row i
     * has the logits {@code ℓ_i = [q̂_i·k̂_i, q̂_i·u_1, ..., q̂_i·u_Q] / τ} and the loss is
     * {@code (1/N) Σ_i -log softmax(ℓ_i)_0 = (1/N) Σ_i (logsumexp(ℓ_i) - ℓ_i,0)}: cross-entropy with the key as the
     * class. Gradients reach {@code q} only: the keys and the queue come from the momentum encoder and are taken as
     * constants.
     */
    public static NDArray infoNce(NDArray q, NDArray k, NDArray queue, float temperature) {
        NDArray query = l2Normalize(q);
        NDArray positives = query.mul(l2Normalize(k.stopGradient())).sum(new int[] {1}, true).div(temperature);
        NDArray negatives = query.matMul(queue.stopGradient().transpose()).div(temperature);
        return logSumExp(positives.concat(negatives, 1)).sub(positives.squeeze(1)).mean();
    }

    /**
     * Decoupled contrastive loss, DCL (Yeh et al. 2022, "Decoupled Contrastive Learning"): NT-Xent's 2N anchors and
     * positives (see {@link #ntXent}), with the positive taken out of the denominator. With {@code s} the cosine
     * similarity, the loss is the mean over the 2N anchors i of
     * {@code -s(i, pos(i))/τ + log Σ_{k ∉ {i, pos(i)}} exp(s(i, k)/τ)}. It needs N ≥ 2: with one pair an anchor has
     * no negative.
     */
    public static NDArray decoupledContrastive(NDArray a, NDArray b, float temperature) {
        return decoupled(a, b, temperature, 0f);
    }

    /**
     * DCLW, the weighted variant of {@link #decoupledContrastive} (Yeh et al. 2022): the positive term of anchor i is
     * multiplied by the negative von Mises-Fisher weight
     * {@code w_i = 2 - N exp(s(i, pos(i))/σ) / Σ_{j<N} exp(s(j, pos(j))/σ)}, the softmax over the N pairs, so that
     * the weights average to 1 and pairs that are already close weigh less; the paper uses σ = 0.5. The weight is not
     * detached (as in the widely used PyTorch implementation), so gradients flow through it too.
     */
    public static NDArray decoupledContrastiveWeighted(NDArray a, NDArray b, float temperature, float sigma) {
        if (!(sigma > 0f)) {
            throw new IllegalArgumentException("sigma must be positive, got " + sigma);
        }
        return decoupled(a, b, temperature, sigma);
    }

    /** {@link #decoupledContrastive}, its positive terms weighted as DCLW's when {@code sigma > 0}. */
    private static NDArray decoupled(NDArray a, NDArray b, float temperature, float sigma) {
        int rows = 2 * (int) a.getShape().get(0);
        if (rows < 4) {
            throw new IllegalArgumentException("the decoupled contrastive loss needs two pairs or more, got "
                    + rows / 2);
        }
        NDArray z = l2Normalize(NDArrays.concat(new NDList(a, b)));
        NDArray eye = z.getManager().eye(rows);
        NDArray logits = z.matMul(z.transpose()).div(temperature).sub(eye.add(swapHalves(eye)).mul(EXCLUDED));
        NDArray cosines = z.mul(swapHalves(z)).sum(new int[] {1});
        NDArray positives = cosines.div(temperature);
        if (sigma > 0f) {
            // each pair stands twice among the 2N anchors: 2N·softmax over them is N·softmax over the N pairs
            positives = positives.mul(cosines.div(sigma).softmax(0).mul(-rows).add(2f));
        }
        return logSumExp(logits).sub(positives).mean();
    }

    /**
     * DINO's loss (Caron et al. 2021, "Emerging Properties in Self-Supervised Vision Transformers"). {@code student}
     * holds the student's logits of every view (N×K each), the global views first and then the local ones;
     * {@code teacher} the teacher's logits of the global views (N×K each, in the same order); {@code center} the
     * 1×K centre. The teacher's targets are {@code P_i = softmax((t_i - c)/τ_t)} row by row, and the loss is the
     * mean over the pairs (i, v) with {@code v ≠ i} of {@code (1/N) Σ_n Σ_k -P_i,nk log softmax(s_v,n/τ_s)_k}. The
     * teacher and the centre are taken as constants: gradients reach the student only.
     */
    public static NDArray dino(List<NDArray> student, List<NDArray> teacher, NDArray center,
            float studentTemperature, float teacherTemperature) {
        NDArray c = center.stopGradient();
        List<NDArray> targets = new ArrayList<>(teacher.size());
        for (NDArray t : teacher) {
            targets.add(t.stopGradient().sub(c).div(teacherTemperature).softmax(1));
        }
        return swappedCrossEntropy(targets, student, studentTemperature);
    }

    /**
     * DINO's centre update {@code c ← m c + (1 - m) (1/(VN)) Σ_{views, rows} t}: the mean of all the rows of the
     * teacher's V global-view logits (N×K each), folded into the 1×K centre with momentum m. No gradient: a new
     * array, the arguments unchanged.
     */
    public static NDArray dinoCenter(NDArray center, List<NDArray> teacher, float momentum) {
        NDList rows = new NDList(teacher.size());
        for (NDArray t : teacher) {
            rows.add(t.stopGradient());
        }
        NDArray batchCenter = NDArrays.concat(rows).mean(new int[] {0}, true);
        return center.stopGradient().mul(momentum).add(batchCenter.mul(1f - momentum));
    }

    /**
     * SwAV's Sinkhorn-Knopp codes (Caron et al. 2020, "Unsupervised Learning of Visual Features by Contrasting
     * Cluster Assignments"; the single-process form of its {@code distributed_sinkhorn}). From the B×K prototype
     * scores, {@code Q = exp(scores/ε)ᵀ} (K×B) is scaled to sum 1, then {@code iterations} times its rows (the
     * prototypes) are scaled to sum 1/K each and then its columns (the samples) to sum 1/B each; the result is
     * {@code (B Q)ᵀ}, B×K, each row a distribution over the prototypes (and, once converged, each prototype holding
     * B/K of the batch). For stability the global maximum of {@code scores/ε} is subtracted before the exp: that
     * multiplies Q by one constant, which the first scaling to sum 1 cancels exactly, so the result is unchanged
     * while no exp overflows. (A sample whose scores/ε all lie more than about 100 below that maximum would still
     * underflow to a zero column, as in the original.) No gradient.
     */
    public static NDArray sinkhorn(NDArray scores, float epsilon, int iterations) {
        long samples = scores.getShape().get(0);
        long prototypes = scores.getShape().get(1);
        NDArray logits = scores.stopGradient().div(epsilon);
        NDArray q = logits.sub(logits.max()).exp().transpose();
        q.divi(q.sum());
        for (int i = 0; i < iterations; i++) {
            q.divi(q.sum(new int[] {1}, true)).divi(prototypes);
            q.divi(q.sum(new int[] {0}, true)).divi(samples);
        }
        return q.muli(samples).transpose();
    }

    /**
     * SwAV's swapped prediction (Caron et al. 2020): {@code scores} holds the prototype scores of every view (N×K
     * each), the global views first and then the local ones; {@code codes} the {@link #sinkhorn} codes of the global
     * views (N×K each, in the same order). The loss is the mean over the global views i of the mean over the views
     * {@code v ≠ i} of {@code (1/N) Σ_n Σ_k -q_i,nk log softmax(scores_v,n/τ)_k}. The codes are taken as constants:
     * gradients reach the scores only.
     */
    public static NDArray swav(List<NDArray> scores, List<NDArray> codes, float temperature) {
        List<NDArray> targets = new ArrayList<>(codes.size());
        for (NDArray q : codes) {
            targets.add(q.stopGradient());
        }
        return swappedCrossEntropy(targets, scores, temperature);
    }

    /**
     * The mean over the pairs (i, v), {@code v ≠ i}, of the cross-entropy {@code (1/N) Σ_n Σ_k -p_i,nk log
     * softmax(x_v,n/τ)_k} between target distributions {@code p_i} of the first views and the predictions of every
     * view; every i has the same V - 1 partners, so this is also the mean over i of the mean over v (DINO and SwAV).
     */
    private static NDArray swappedCrossEntropy(List<NDArray> targets, List<NDArray> logits, float temperature) {
        if (targets.isEmpty() || logits.size() < 2 || logits.size() < targets.size()) {
            throw new IllegalArgumentException("needs one target view or more and two predicted views or more, at "
                    + "least as many as targets; got " + targets.size() + " and " + logits.size());
        }
        List<NDArray> logProbabilities = new ArrayList<>(logits.size());
        for (NDArray x : logits) {
            logProbabilities.add(x.div(temperature).logSoftmax(1));
        }
        NDArray total = null;
        for (int i = 0; i < targets.size(); i++) {
            for (int v = 0; v < logProbabilities.size(); v++) {
                if (v != i) {
                    NDArray term = targets.get(i).mul(logProbabilities.get(v)).sum(new int[] {1}).mean().neg();
                    total = total == null ? term : total.add(term);
                }
            }
        }
        return total.div((float) targets.size() * (logits.size() - 1));
    }

    /** The rows of {@code x} (2N×D) with its two halves exchanged: rows N..2N-1, then 0..N-1. */
    public static NDArray swapHalves(NDArray x) {
        NDList halves = x.split(2);
        return NDArrays.concat(new NDList(halves.get(1), halves.get(0)));
    }

    /** Mean over the batch of {@code cos(a_i, b_i)}. */
    private static NDArray meanCosine(NDArray a, NDArray b) {
        return l2Normalize(a).mul(l2Normalize(b)).sum(new int[] {1}).mean();
    }

    /** {@code log Σ_k exp(x_ik)} for each row i of {@code x}, with the row maximum taken out first so nothing overflows. */
    private static NDArray logSumExp(NDArray x) {
        NDArray max = x.max(new int[] {1}, true);
        return x.sub(max).exp().sum(new int[] {1}).log().add(max.squeeze(1));
    }
}
