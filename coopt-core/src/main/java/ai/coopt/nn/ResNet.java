package ai.coopt.nn;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.pooling.Pool;

/**
 * ResNet backbones (He et al. 2016) without the classifier.
 * <ul>
 *   <li>{@code resnet18}: basic blocks [2,2,2,2], 512 features, with the small-image stem used by
 *       ReLA ("ResNet-18 modified"): a 3×3 stride-1 first convolution and no max-pool.</li>
 *   <li>{@code resnet-s}: a small ResNet for 28×28/32×32 images and small model files: one basic
 *       block per stage with widths 24/48/96/192, the small-image stem, 192 features (about 0.7 M
 *       parameters).</li>
 *   <li>{@code resnet50}: bottleneck blocks [3,4,6,3], 2048 features, the standard ImageNet stem
 *       (7×7 stride-2 convolution and 3×3 stride-2 max-pool).</li>
 *   <li>{@code resnet101}: {@code resnet50} with bottleneck blocks [3,4,23,3] (the same stem and widths), 2048
 *       features, about 42.5 M parameters.</li>
 * </ul>
 */
final class ResNet {
    private static final int[] WIDTHS = {64, 128, 256, 512};
    private static final int[] SMALL_WIDTHS = {24, 48, 96, 192};

    private ResNet() {}

    static Backbone resnet18() {
        return new Backbone("resnet18", basicNet(WIDTHS, new int[] {2, 2, 2, 2}), 512);
    }

    static Backbone resnetSmall() {
        return new Backbone("resnet-s", basicNet(SMALL_WIDTHS, new int[] {1, 1, 1, 1}), 192);
    }

    /** Small-image stem (3×3, stride 1, no max-pool) followed by stages of basic blocks. */
    private static Block basicNet(int[] widths, int[] depths) {
        SequentialBlock net = new SequentialBlock().add(Layers.convBnRelu(widths[0], 3, 1));
        int inWidth = widths[0];
        for (int stage = 0; stage < widths.length; stage++) {
            int width = widths[stage];
            for (int i = 0; i < depths[stage]; i++) {
                int stride = stage > 0 && i == 0 ? 2 : 1;
                net.add(basic(width, stride, stride != 1 || inWidth != width));
                inWidth = width;
            }
        }
        return head(net);
    }

    static Backbone resnet50() {
        return new Backbone("resnet50", bottleneckNet(new int[] {3, 4, 6, 3}), 2048);
    }

    static Backbone resnet101() {
        return new Backbone("resnet101", bottleneckNet(new int[] {3, 4, 23, 3}), 2048);
    }

    /** ImageNet stem (7×7 stride-2 convolution, 3×3 stride-2 max-pool) followed by stages of bottleneck blocks. */
    private static Block bottleneckNet(int[] depths) {
        SequentialBlock net = new SequentialBlock()
                .add(Layers.convBnRelu(64, 7, 2))
                .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
        int inWidth = 64;
        for (int stage = 0; stage < 4; stage++) {
            int width = WIDTHS[stage];
            for (int i = 0; i < depths[stage]; i++) {
                int stride = stage > 0 && i == 0 ? 2 : 1;
                net.add(bottleneck(width, stride, stride != 1 || inWidth != width * 4));
                inWidth = width * 4;
            }
        }
        return head(net);
    }

    private static Block head(SequentialBlock net) {
        return net.add(Pool.globalAvgPool2dBlock()).add(Blocks.batchFlattenBlock());
    }

    private static Block basic(int width, int stride, boolean project) {
        SequentialBlock main = new SequentialBlock()
                .add(Layers.convBnRelu(width, 3, stride))
                .add(Layers.convBn(width, 3, 1, 1));
        return new SequentialBlock()
                .add(Layers.residual(main, project ? Layers.convBn(width, 1, stride, 1) : null))
                .add(Activation.reluBlock());
    }

    private static Block bottleneck(int width, int stride, boolean project) {
        SequentialBlock main = new SequentialBlock()
                .add(Layers.convBnRelu(width, 1, 1))
                .add(Layers.convBnRelu(width, 3, stride))
                .add(Layers.convBn(width * 4, 1, 1, 1));
        return new SequentialBlock()
                .add(Layers.residual(main, project ? Layers.convBn(width * 4, 1, stride, 1) : null))
                .add(Activation.reluBlock());
    }
}
