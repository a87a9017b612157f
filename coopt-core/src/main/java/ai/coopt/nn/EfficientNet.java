package ai.coopt.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;

/**
 * {@code efficientnet-b0} (Tan &amp; Le 2019), width and depth multipliers 1.0, without the classifier; 1280
 * features, about 4.0 M parameters.
 *
 * <p>Layout: a 3×3 convolution to 32 channels, then MBConv blocks by the B0 table (expansion t, channels c,
 * repeats n, stride s, kernel k): 1,16,1,1,3; 6,24,2,2,3; 6,40,2,2,5; 6,80,3,2,3; 6,112,3,1,5; 6,192,4,2,5;
 * 6,320,1,1,3; then a 1×1 convolution to 1280 channels and a global average pool. Every convolution is followed by
 * batch norm and, except the MBConv projections, SiLU. An MBConv block is: 1×1 expansion to t·in channels (absent
 * when t = 1), k×k depthwise convolution with the stride, a squeeze-excitation gate (global average → 1×1
 * convolution with bias to max(1, in/4) channels, in being the block's <em>input</em> channels → SiLU → 1×1
 * convolution with bias back → sigmoid, multiplied onto the depthwise output), and a 1×1 projection to c channels;
 * a residual sum when the stride is 1 and in = c.
 *
 * <p>Small-image variant, as {@link MobileNetV2} here: the stem's stride 2 and the first stride-2 stage's (the
 * 24-channel one) are both 1, so the network downsamples 8× instead of 32× and 28×28 or 32×32 inputs end at 4×4
 * rather than 1×1. The strides used are therefore: stem 1; stages 1, 1, 2, 2, 1, 2, 1. Parameter counts are those
 * of the standard B0 (strides have no weights).
 *
 * <p>Differences from the reference, on purpose: no stochastic depth and no dropout (none of the other backbones
 * here has a random layer, so a training-mode forward pass depends only on the weights and the batch, as for them;
 * stochastic depth would be a per-block random skip of the residual branch in training); batch norm uses this project's ε = 1e-5 ({@link Layers#BN_EPSILON}, which {@link InferenceNetwork}
 * folds) instead of TensorFlow's 1e-3.
 */
final class EfficientNet {
    /** B0 MBConv stages: expansion t, channels c, repeats n, stride s (small-image strides), kernel k. */
    private static final int[][] STAGES = {
        {1, 16, 1, 1, 3}, {6, 24, 2, 1, 3}, {6, 40, 2, 2, 5}, {6, 80, 3, 2, 3}, {6, 112, 3, 1, 5}, {6, 192, 4, 2, 5},
        {6, 320, 1, 1, 3},
    };
    private static final int STEM = 32;
    static final int FEATURES = 1280;

    private EfficientNet() {}

    static Backbone b0() {
        SequentialBlock net = new SequentialBlock().add(Layers.convBnSilu(STEM, 3, 1, 1));
        int in = STEM;
        for (int[] s : STAGES) {
            for (int i = 0; i < s[2]; i++) {
                net.add(mbConv(in, s[1], i == 0 ? s[3] : 1, s[0], s[4]));
                in = s[1];
            }
        }
        net.add(Layers.convBnSilu(FEATURES, 1, 1, 1))
                .add(Pool.globalAvgPool2dBlock())
                .add(Blocks.batchFlattenBlock());
        return new Backbone("efficientnet-b0", net, FEATURES);
    }

    private static Block mbConv(int in, int out, int stride, int expansion, int kernel) {
        int hidden = in * expansion;
        SequentialBlock main = new SequentialBlock();
        if (expansion != 1) {
            main.add(Layers.convBnSilu(hidden, 1, 1, 1));
        }
        main.add(Layers.convBnSilu(hidden, kernel, stride, hidden))
                .add(squeezeExcitation(hidden, Math.max(1, in / 4)))
                .add(Layers.convBn(out, 1, 1, 1));
        return stride == 1 && in == out ? Layers.residual(main, null) : main;
    }

    /** The gate of {@code channels} channels through a bottleneck of {@code squeezed}. */
    private static Block squeezeExcitation(int channels, int squeezed) {
        SequentialBlock scale = new SequentialBlock()
                .add(LambdaBlock.singleton(EfficientNet::spatialMean, "SpatialMean"))
                .add(pointwiseWithBias(squeezed))
                .add(Layers.siluBlock())
                .add(pointwiseWithBias(channels))
                .add(Activation.sigmoidBlock());
        return Layers.gate(scale);
    }

    /**
     * N×C×H×W to its N×C×1×1 means, as an average pool over the whole map. The engine's mean (what its global average
     * pool becomes for a 1×1 output) has a backward pass that hands back a broadcast gradient, and adding it to the
     * gate's other gradient took 115 ms of efficientnet-b0's 896 ms traced bf16 training step; the pool's backward
     * pass writes a dense one (14 ms, and the addition vanishes from the profile).
     */
    static NDArray spatialMean(NDArray x) {
        long[] s = x.getShape().getShape();
        return Pool.avgPool2d(x, new Shape(s[2], s[3]), new Shape(s[2], s[3]), new Shape(0, 0), false, true);
    }

    private static Block pointwiseWithBias(int filters) {
        return Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(filters).optBias(true).build();
    }
}
