package ai.coopt.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * A linear layer, and the GELU after it, as one oneDNN primitive, for float32 inference: the engine's
 * {@code mkldnn::_linear_pointwise}, which adds the bias and applies the activation to each block of the product
 * while it is in cache. The other way, {@code addmm}, first copies the bias into every row of the output and then
 * accumulates the product onto it, and a GELU reads and writes the output once more. On vit-tiny's MLPs (traced
 * inference steps, batch 128, one thread, Zen 4) it took float32 steps from 799 to 741 ms, and bfloat16 steps from 466
 * to 486 ms, so it runs in float32 only ({@link #pays}). Like {@link FusedConvolution} it runs through one-line
 * TorchScript modules ({@link ScriptModules}) and has no backward pass.
 */
public final class FusedLinear {
    private FusedLinear() {}

    /** What follows the product in the same primitive. */
    public enum Activation {
        NONE, GELU;

        private ScriptModule module() {
            return this == NONE ? Modules.NONE : Modules.GELU;
        }
    }

    /**
     * Whether a layer of {@code weight} runs faster this way: float32 weights on a CPU with PyTorch sending its work
     * to oneDNN. In bfloat16 the primitive was the slower (measured on a CPU without AMX; not measured with it).
     */
    public static boolean pays(NDArray weight) {
        return weight.getDataType() == DataType.FLOAT32 && FusedConvolution.available(weight.getDevice());
    }

    /**
     * {@code activation(x · weightᵀ + bias)} over the last axis of {@code x} (any leading axes), a new array in
     * {@code x}'s manager. {@code weight} (out × in) and {@code bias} share {@code x}'s data type.
     */
    public static NDArray apply(NDArray x, NDArray weight, NDArray bias, Activation activation) {
        return activation.module().apply(x, weight, bias);
    }

    /** The modules, made at first use. GELU is the exact (erf) form, as DJL's and PyTorch's default. */
    private static final class Modules {
        static final ScriptModule NONE = load("Linear", "'none'", "''");
        static final ScriptModule GELU = load("LinearGELU", "'gelu'", "'none'");

        private static ScriptModule load(String name, String attr, String algorithm) {
            return ScriptModules.loadWith(name, "x: Tensor, w: Tensor, b: Tensor", "Tensor",
                    "return ops.mkldnn._linear_pointwise(x, w, b, " + attr
                            + ", annotate(List[Optional[number]], []), " + algorithm + ")");
        }
    }
}
