package ai.coopt.nn;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;

/**
 * {@code convnet-s}: a small, fast network for 28×28 and 32×32 images. Three conv3×3-BN-ReLU
 * blocks with 32/64/128 channels, 2×2 max-pool after the first two, global average pool, and a
 * linear 128 → 128 layer; 128 features.
 */
final class ConvNetS {
    static final int FEATURES = 128;

    private ConvNetS() {}

    static Backbone create() {
        SequentialBlock net = new SequentialBlock()
                .add(Layers.convBnRelu(32, 3, 1))
                .add(Pool.maxPool2dBlock(new Shape(2, 2)))
                .add(Layers.convBnRelu(64, 3, 1))
                .add(Pool.maxPool2dBlock(new Shape(2, 2)))
                .add(Layers.convBnRelu(128, 3, 1))
                .add(Pool.globalAvgPool2dBlock())
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(FEATURES).build());
        return new Backbone("convnet-s", net, FEATURES);
    }
}
