package ai.coopt.nn;

import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.pooling.Pool;

/**
 * MobileNetV2 (Sandler et al. 2018), width 1.0, without the classifier; 1280 features.
 * Small-image variant as commonly used for CIFAR: the stem and the first stride-2 stage use
 * stride 1, so 28×28 and 32×32 inputs keep enough spatial resolution.
 */
final class MobileNetV2 {
    /** Inverted-residual settings: expansion t, channels c, repeats n, stride s (small-image strides). */
    private static final int[][] SETTINGS = {
        {1, 16, 1, 1}, {6, 24, 2, 1}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
    };
    static final int FEATURES = 1280;

    private MobileNetV2() {}

    static Backbone create() {
        SequentialBlock net = new SequentialBlock().add(Layers.convBnRelu6(32, 3, 1, 1));
        int in = 32;
        for (int[] s : SETTINGS) {
            for (int i = 0; i < s[2]; i++) {
                net.add(invertedResidual(in, s[1], i == 0 ? s[3] : 1, s[0]));
                in = s[1];
            }
        }
        net.add(Layers.convBnRelu6(FEATURES, 1, 1, 1))
                .add(Pool.globalAvgPool2dBlock())
                .add(Blocks.batchFlattenBlock());
        return new Backbone("mobilenetv2", net, FEATURES);
    }

    private static Block invertedResidual(int in, int out, int stride, int expansion) {
        int hidden = in * expansion;
        SequentialBlock main = new SequentialBlock();
        if (expansion != 1) {
            main.add(Layers.convBnRelu6(hidden, 1, 1, 1));
        }
        main.add(Layers.convBnRelu6(hidden, 3, stride, hidden)).add(Layers.convBn(out, 1, 1, 1));
        return stride == 1 && in == out ? Layers.residual(main, null) : main;
    }
}
