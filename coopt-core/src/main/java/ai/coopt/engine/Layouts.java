package ai.coopt.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;

/**
 * Channels-last memory layout (PyTorch's {@code torch.channels_last}) for 4-D arrays: the same N×C×H×W shape and
 * values, stored with C varying fastest (NHWC strides).
 *
 * <p>Given a convolution weight in this layout, PyTorch's oneDNN convolutions (forward and backward) read and write
 * channels-last activations directly, and batch norm, ReLU, pooling and sums that follow keep that layout, with
 * kernels vectorised over channels. In the default NCHW layout every convolution instead reorders its input,
 * output and weights to oneDNN's blocked format and back. Values and shapes are the same either way; only strides
 * differ, and reading an array out ({@code toFloatArray}) gives NCHW order as always.
 *
 * <p>This project keeps every 4-D parameter (all are convolution weights) channels-last: networks are built that
 * way ({@link #toChannelsLast(Block)}), values loaded into a 4-D array keep it ({@link ArrayValues#assign}), and
 * arrays made from them ({@code zerosLike}, gradients, in-place updates) follow their layout.
 */
public final class Layouts {
    private Layouts() {}

    /**
     * Gives every 4-D parameter of {@code block} (initialised) channels-last strides in place: the parameter keeps
     * its array object, values and whether it records gradients; only the tensor behind it is replaced.
     */
    public static void toChannelsLast(Block block) {
        for (var entry : block.getParameters()) {
            Parameter p = entry.getValue();
            NDArray array = p.getArray();
            if (array.getShape().dimension() == 4) {
                boolean gradient = array.hasGradient();
                array.intern(channelsLast(array));
                array.setRequiresGradient(gradient);
            }
        }
    }

    /**
     * Whether a 4-D array stored as NCHW needs a copy to be channels-last: not with one channel or one pixel, where
     * the two orders are the same and the engine reads it as channels-last already.
     */
    public static boolean copiesToChannelsLast(NDArray array) {
        long[] s = array.getShape().getShape();
        return s.length == 4 && s[1] > 1 && s[2] * s[3] > 1;
    }

    /**
     * A copy of the 4-D {@code array} with channels-last strides: copied in N, H, W, C order, then viewed as
     * N×C×H×W again. An exact copy (bits included). The copy is a new array in {@code array}'s manager.
     */
    public static NDArray channelsLast(NDArray array) {
        long[] s = array.getShape().getShape();
        if (s.length != 4) {
            throw new IllegalArgumentException("channels-last needs a 4-D array, not " + array.getShape());
        }
        // with one channel or one pixel the reshapes below are views, not a copy: copy first (the views then still
        // get the channels-last strides, which PyTorch reads to choose a layout even where the order is the same)
        boolean viewOnly = s[1] == 1 || s[2] * s[3] == 1;
        NDArray source = viewOnly ? array.mul(1f) : array;
        try (NDArray nhwc = source.transpose(0, 2, 3, 1);
             NDArray packed = nhwc.reshape(s[0], s[2] * s[3] * s[1]);
             NDArray unpacked = packed.reshape(s[0], s[2], s[3], s[1])) {
            return unpacked.transpose(0, 3, 1, 2);
        } finally {
            if (viewOnly) {
                source.close();
            }
        }
    }
}
