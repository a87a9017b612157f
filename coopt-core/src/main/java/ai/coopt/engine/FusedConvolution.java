package ai.coopt.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.IValue;

import java.util.ArrayList;
import java.util.List;

/**
 * A convolution and the activation after it as one oneDNN primitive, for inference: the engine's
 * {@code mkldnn::_convolution_pointwise}, which applies the activation to each output block while it is still in
 * cache, where a separate activation reads and writes the whole output once more. DJL's binding does not expose the
 * operation; it runs in one-line TorchScript modules ({@link ScriptModules}), one per activation, made at first use.
 *
 * <p>It has no backward pass, and it calls oneDNN directly: use it only where {@link #available} says so (a CPU
 * array, oneDNN on). The values are the separate operations' to the last bit for ReLU and ReLU6; SiLU (oneDNN's
 * swish) may differ in the last bit of the output's precision.
 */
public final class FusedConvolution {
    private FusedConvolution() {}

    /** The activations oneDNN fuses into a convolution here. */
    public enum Activation {
        RELU, RELU6, SILU;

        private ScriptModule module() {
            return switch (this) {
                case RELU -> Modules.RELU;
                case RELU6 -> Modules.RELU6;
                case SILU -> Modules.SILU;
            };
        }
    }

    /** Whether arrays on {@code device} can use this: a CPU, with PyTorch sending convolutions to oneDNN. */
    public static boolean available(Device device) {
        return Device.Type.CPU.equals(device.getDeviceType()) && OneDnn.enabled();
    }

    /**
     * {@code activation(conv(x, weight) + bias)}, a new array in {@code x}'s manager. {@code weight}, {@code bias}
     * and {@code x} share a data type (float32 or bfloat16); the output takes {@code x}'s memory layout.
     */
    public static NDArray apply(NDArray x, NDArray weight, NDArray bias, Shape stride, Shape padding, Shape dilation,
            int groups, Activation activation) {
        return call(activation.module(), x, null, weight, bias, stride, padding, dilation, groups);
    }

    /**
     * {@code relu(conv(x, weight) + bias + other)}: a residual sum and the ReLU after it fused into the convolution
     * that ends the block's main branch (oneDNN fuses a sum with no other activation). {@code other} has the
     * output's shape, type and layout; the result is written into {@code other}'s memory, whose values are lost: pass
     * an array nothing else reads. The result is a new array object in {@code x}'s manager (closing {@code other}
     * afterwards leaves it intact); on the smallest maps, where oneDNN cannot fuse, it is a new array and
     * {@code other} is left as it was.
     *
     * <p>In place because the engine's out-of-place form copies {@code other} whole before it starts: a residual
     * convolution of resnet-s (24 channels, 128×32×32, bf16) took 10–12 ms that way and 5–6 ms in place.
     */
    public static NDArray applyWithSumAndReluInto(NDArray other, NDArray x, NDArray weight, NDArray bias,
            Shape stride, Shape padding, Shape dilation, int groups) {
        return call(Modules.SUM_RELU, x, other, weight, bias, stride, padding, dilation, groups);
    }

    private static NDArray call(ScriptModule module, NDArray x, NDArray other, NDArray weight, NDArray bias,
            Shape stride, Shape padding, Shape dilation, int groups) {
        List<IValue> inputs = new ArrayList<>(8);
        inputs.add(IValue.from((PtNDArray) x));
        if (other != null) {
            inputs.add(IValue.from((PtNDArray) other));
        }
        inputs.add(IValue.from((PtNDArray) weight));
        inputs.add(IValue.from((PtNDArray) bias));
        inputs.add(IValue.listFrom(padding.getShape()));
        inputs.add(IValue.listFrom(stride.getShape()));
        inputs.add(IValue.listFrom(dilation.getShape()));
        inputs.add(IValue.from((long) groups));
        try (IValue out = module.run(inputs)) {
            return out.toTensor((PtNDManager) x.getManager());
        }
    }

    /** The modules, made at first use. */
    private static final class Modules {
        private static final String RELU_ATTR = "'relu', annotate(List[Optional[number]], [])";
        private static final String RELU6_ATTR = "'hardtanh', annotate(List[Optional[number]], [0., 6.])";
        private static final String SILU_ATTR = "'swish', annotate(List[Optional[number]], [])";
        private static final String ARGUMENTS =
                "w: Tensor, b: Tensor, padding: List[int], stride: List[int], dilation: List[int], groups: int";

        static final ScriptModule RELU = load("ConvReLU", RELU_ATTR);
        static final ScriptModule RELU6 = load("ConvReLU6", RELU6_ATTR);
        static final ScriptModule SILU = load("ConvSiLU", SILU_ATTR);
        // oneDNN cannot describe a 1×1 map's memory ("could not create a memory"): those, the smallest maps of a
        // network, take the separate operations
        static final ScriptModule SUM_RELU = ScriptModules.loadWith("ConvSumReLU",
                "x: Tensor, other: Tensor, " + ARGUMENTS, "Tensor",
                "if other.size(2) * other.size(3) == 1:",
                "  return torch.relu(torch.conv2d(x, w, b, stride, padding, dilation, groups) + other)",
                "return ops.mkldnn._convolution_pointwise_(other, x, w, b, padding, stride, dilation, groups, 'add',"
                        + " 1., " + RELU_ATTR + ", None)");

        private static ScriptModule load(String name, String activation) {
            return ScriptModules.loadWith(name, "x: Tensor, " + ARGUMENTS, "Tensor",
                    "return ops.mkldnn._convolution_pointwise(x, w, b, padding, stride, dilation, groups, "
                            + activation + ", None)");
        }
    }
}
