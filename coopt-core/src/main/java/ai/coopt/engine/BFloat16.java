package ai.coopt.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Casts between float32 and bfloat16 arrays. DJL's PyTorch binding has no bfloat16 type of its own (its native layer
 * maps only the types up to complex64, and aborts on any other), yet every operation on an array already made runs in
 * the array's own type. So the casts run inside two one-line TorchScript modules ({@link ScriptModules}) made at
 * first use, and return arrays DJL reports as of unknown type that the engine's operations accept. Autograd records
 * the casts, so gradients flow back to float32 weights through bfloat16 computation.
 *
 * <p>DJL operations that pass the array's type to the engine abort on such an array: those taking a Number ({@code
 * mul(2f)}: use a 0-dimensional float32 array, which does not promote bfloat16), {@code softmax} and {@code
 * logSoftmax} (compute them in float32, as autocast does), {@code toType}, {@code toFloatArray}.
 */
public final class BFloat16 {

    private BFloat16() {}

    /**
     * {@code x} in bfloat16, a new array in {@code x}'s manager. Autograd records the cast as it records any operation
     * (when gradients are on and {@code x} needs one).
     */
    public static NDArray of(NDArray x) {
        return Casts.DOWN.apply(x);
    }

    /**
     * {@code x} in bfloat16 and, when 4-D, channels-last ({@link Layouts}): one copy that a network's first
     * convolution reads as it is, where a cast alone left it to make its input channels-last twice a step (in the
     * forward pass and again for its weight gradient). The same values as {@link #of}.
     */
    public static NDArray ofImages(NDArray x) {
        return x.getShape().dimension() == 4 ? Casts.DOWN_CHANNELS_LAST.apply(x) : of(x);
    }

    /** {@code x} (bfloat16) in float32, a new array in {@code x}'s manager; recorded by autograd like {@link #of}. */
    public static NDArray toFloat32(NDArray x) {
        return Casts.UP.apply(x);
    }

    /**
     * {@code constant} (float32, made outside autograd) in {@code model}'s precision: itself beside a float32 array, cast
     * (and the float32 array closed) beside a bfloat16 one, so that a sum does not promote bfloat16 work to float32.
     */
    public static NDArray like(NDArray model, NDArray constant) {
        if (!isBFloat16(model) || isBFloat16(constant)) {
            return constant;
        }
        try (constant) {
            return of(constant);
        }
    }

    /** Whether {@code x} holds bfloat16 values (DJL's PyTorch binding reports them as of unknown type). */
    public static boolean isBFloat16(NDArray x) {
        return x.getDataType() == DataType.UNKNOWN;
    }

    /** The two modules, made at first use (the engine loads them once, on the first cast). */
    private static final class Casts {
        static final ScriptModule DOWN = load("ToBFloat16", 15);
        static final ScriptModule UP = load("ToFloat32", 6);
        // memory format 2 is torch.channels_last
        static final ScriptModule DOWN_CHANNELS_LAST = ScriptModules.load("ToBFloat16ChannelsLast", "Tensor",
                "return x.to(dtype=15, memory_format=2)");
    }

    /** A module whose forward is {@code torch.to(x, dtype)} ({@code dtype}: PyTorch's scalar-type code, 15 bfloat16, 6 float32). */
    private static ScriptModule load(String name, int dtype) {
        return ScriptModules.load(name, "Tensor", "return torch.to(x, " + dtype + ")");
    }
}
