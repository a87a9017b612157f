package ai.coopt.train;

import ai.djl.ndarray.NDArray;

/** Loss functions on batches of vectors. */
public final class Losses {
    private static final float EPS = 1e-8f;

    private Losses() {}

    /** Rows scaled to unit L2 norm. */
    public static NDArray l2Normalize(NDArray x) {
        return x.div(x.norm(new int[] {1}, true).maximum(EPS));
    }

    /** Mean over the batch of {@code 1 - cos(a_i, b_i)}: the ReLA regression loss. */
    public static NDArray cosineDistance(NDArray a, NDArray b) {
        return l2Normalize(a).mul(l2Normalize(b)).sum(new int[] {1}).mean().neg().add(1f);
    }
}
