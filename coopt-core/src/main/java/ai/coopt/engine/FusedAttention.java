package ai.coopt.engine;

import ai.djl.ndarray.NDArray;

/**
 * Scaled dot-product attention as the engine's one operation ({@code torch.scaled_dot_product_attention}, its
 * flash-attention kernel on the CPU), for inference: the scaling, both matrix products and the softmax in one pass
 * over blocks of the scores, which are never written out whole; bfloat16 inputs accumulate in float32. DJL's binding
 * does not expose it; it runs in a one-line TorchScript module ({@link ScriptModules}) made at first use.
 *
 * <p>Not for training: measured on vit-tiny's shapes (128 × 3 heads × 65 tokens × 64, one thread), its bfloat16
 * backward pass made a training step's attention 3× slower (110 against 36 ms); in float32 it was level.
 */
public final class FusedAttention {
    private FusedAttention() {}

    /**
     * {@code softmax(q·kᵀ / √d)·v} over the last two axes of N×H×T×d queries, keys and values; a new array in
     * {@code q}'s manager, in their precision.
     */
    public static NDArray apply(NDArray q, NDArray k, NDArray v) {
        return Module.MODULE.apply(q, k, v);
    }

    /** The module, made at first use. */
    private static final class Module {
        static final ScriptModule MODULE = ScriptModules.loadWith("Attention", "q: Tensor, k: Tensor, v: Tensor",
                "Tensor", "return torch.scaled_dot_product_attention(q, k, v)");
    }
}
