package ai.coopt.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;

/**
 * Scaled dot-product attention as the engine's one operation ({@code torch.scaled_dot_product_attention}, its
 * flash-attention kernel on the CPU), for inference: the scaling, both matrix products and the softmax in one pass
 * over blocks of the scores, which are never written out whole; bfloat16 inputs accumulate in float32. DJL's binding
 * does not expose it; it runs in a one-line TorchScript module ({@link ScriptModules}) made at first use.
 *
 * <p>Not for training: measured on vit-tiny's shapes (128 × 3 heads × 65 tokens × 64, one thread), its bfloat16
 * backward pass made a training step's attention 3× slower (110 against 36 ms); in float32 it was level.
 *
 * <p>Nor for bfloat16 on a CPU without AMX ({@link #pays}): on a Zen 4 (AVX-512 BF16 only) its bfloat16 kernel was
 * about twice as slow as the separate operations (vit-tiny's inference: 172 ms of a 740 ms step in it, where PyTorch's
 * separate operations took under 100), while on a Xeon with AMX it was faster (7.7 → 5.1 ms a layer).
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

    /**
     * Whether the fused kernel is the faster way for arrays like {@code q}: yes in float32 and off the CPU; in
     * bfloat16 on a CPU, only where the CPU has AMX ({@link CpuFlags}, so a test can stand for either CPU).
     */
    public static boolean pays(NDArray q) {
        return !BFloat16.isBFloat16(q) || !Device.Type.CPU.equals(q.getDevice().getDeviceType())
                || CpuFlags.get().contains("amx_bf16");
    }

    /** The module, made at first use. */
    private static final class Module {
        static final ScriptModule MODULE = ScriptModules.loadWith("Attention", "q: Tensor, k: Tensor, v: Tensor",
                "Tensor", "return torch.scaled_dot_product_attention(q, k, v)");
    }
}
