package ai.coopt.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;

/** Loss functions on batches of vectors. */
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
