package ai.coopt.nn;

import ai.coopt.UserException;
import ai.coopt.engine.Engines;
import ai.coopt.engine.Precision;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArchitecturesTest {

    @ParameterizedTest
    @CsvSource({
        "convnet-s, 1, 28, 128", "convnet-s, 3, 32, 128",
        "resnet18, 1, 28, 512", "resnet18, 3, 32, 512",
        "resnet50, 1, 28, 2048", "resnet50, 3, 32, 2048",
        "resnet-s, 1, 28, 192", "resnet-s, 3, 32, 192",
        "mobilenetv2, 1, 28, 1280", "mobilenetv2, 3, 32, 1280",
        "resnet101, 1, 28, 2048", "resnet101, 3, 32, 2048",
        "efficientnet-b0, 1, 28, 1280", "efficientnet-b0, 3, 32, 1280",
        "vit-tiny, 1, 28, 192", "vit-tiny, 3, 32, 192",
    })
    void backboneReportsItsFeatureDimensionForOneAndThreeChannels(String arch, int channels, int size, int dim) {
        try (Network net = Network.create(arch, channels, size, size, 1, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            assertEquals(dim, net.featureDim());
            NDArray x = m.randomNormal(new Shape(2, channels, size, size));
            NDArray train = net.forward(x, true);
            NDArray infer = net.forward(x, false);
            assertEquals(new Shape(2, dim), train.getShape());
            assertEquals(new Shape(2, dim), infer.getShape());
            for (float v : infer.toFloatArray()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    /**
     * Trainable parameters (batch-norm running statistics excluded), as counted independently by the layer-for-layer
     * PyTorch definitions in scripts/bench_pytorch.py ({@code sum(p.numel() for p in model.parameters())}); the
     * torchvision models without their classifiers agree where they exist (resnet50 25,557,032 − 2,049,000,
     * resnet101 44,549,160 − 2,049,000, efficientnet_b0 5,288,548 − 1,281,000, at 3 channels).
     */
    @ParameterizedTest
    @CsvSource({
        "convnet-s, 1, 109408", "convnet-s, 3, 109984",
        "resnet-s, 1, 690120", "resnet-s, 3, 690552",
        "resnet18, 1, 11167680", "resnet18, 3, 11168832",
        "resnet50, 1, 23501760", "resnet50, 3, 23508032",
        "resnet101, 1, 42493888", "resnet101, 3, 42500160",
        "mobilenetv2, 1, 2223296", "mobilenetv2, 3, 2223872",
        "efficientnet-b0, 1, 4006972", "efficientnet-b0, 3, 4007548",
        "vit-tiny, 1, 5342208", "vit-tiny, 3, 5348352",
    })
    void parameterCountsMatchThePyTorchDefinitions(String arch, int channels, long expected) {
        try (Network net = Network.create(arch, channels, 32, 32, 1, Device.cpu())) {
            long count = 0;
            for (Parameter p : net.trainableParameters()) {
                count += p.getArray().size();
            }
            assertEquals(expected, count, arch + " at " + channels + " channels");
        }
    }

    /**
     * A training step's backward pass reaches every trainable parameter of the new backbones, with finite values.
     * Batch-norm shifts are exempt from the non-zero check: where one feeds a convolution and batch norm with no
     * non-linearity between (an MBConv projection), the next batch norm subtracts it again, so its true gradient is
     * zero and what the engine computes is rounding.
     */
    @ParameterizedTest
    @CsvSource({"efficientnet-b0, 1, 28", "vit-tiny, 3, 32", "vit-tiny, 1, 12", "resnet101, 3, 32"})
    void trainingBackwardReachesEveryParameter(String arch, int channels, int size) {
        try (Network net = Network.create(arch, channels, size, size, 2, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            NDArray x = m.randomNormal(new Shape(2, channels, size, size));
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                NDArray features = net.forward(x, true);
                gc.backward(features.mul(m.randomNormal(features.getShape())).sum());
            }
            for (Parameter p : net.trainableParameters()) {
                float[] g = p.getArray().getGradient().toFloatArray();
                boolean nonZero = false;
                for (float v : g) {
                    assertTrue(Float.isFinite(v), arch + " " + p.getName());
                    nonZero |= v != 0;
                }
                assertTrue(nonZero || p.getType() == Parameter.Type.BETA, arch + ": no gradient reached " + p.getName());
            }
        }
    }

    /** Features of 4×4 to 20×20 images: the ViT computes its position embeddings for any patch grid. */
    @Test
    void visionTransformerTakesAnyInputOfAtLeastOnePatch() {
        assertEquals(4, Architectures.minSide("vit-tiny"));
        try (Network net = Network.create("vit-tiny", 3, 32, 32, 1, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            for (int[] size : new int[][] {{4, 4}, {12, 20}, {7, 9}, {32, 32}}) {
                NDArray y = net.forward(m.randomNormal(new Shape(2, 3, size[0], size[1])), false);
                assertEquals(new Shape(2, 192), y.getShape());
            }
        }
    }

    /**
     * A linear layer over N×T×D tokens runs on their rows (so that libtorch adds the bias inside the product):
     * each row's result is W·x + b (against float64), in the tokens' shape; a matrix goes through as it is. The
     * ViT's linear layers keep DJL's parameter names, so saved weights and their hashes are unchanged, and its
     * inference pass computes what its training pass does.
     */
    @Test
    void linearLayersOverTokensComputeEachRowAndKeepTheirNames() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = m.randomNormal(new Shape(2, 3, 4));
            NDArray w = m.randomNormal(new Shape(5, 4));
            NDArray b = m.randomNormal(new Shape(5));
            NDArray y = Layers.onRows(x, rows -> rows.getNDArrayInternal().linear(rows, w, b).singletonOrThrow());
            assertEquals(new Shape(2, 3, 5), y.getShape());
            float[] xs = x.toFloatArray();
            float[] ws = w.toFloatArray();
            float[] bs = b.toFloatArray();
            float[] ys = y.toFloatArray();
            for (int row = 0; row < 6; row++) {
                for (int o = 0; o < 5; o++) {
                    double expected = bs[o];
                    for (int i = 0; i < 4; i++) {
                        expected += (double) ws[o * 4 + i] * xs[row * 4 + i];
                    }
                    assertEquals(expected, ys[row * 5 + o], 1e-5, "row " + row + ", output " + o);
                }
            }
            NDArray matrix = m.randomNormal(new Shape(3, 4));
            assertSame(matrix, Layers.onRows(matrix, rows -> rows), "a matrix is its own rows");
        }
        try (Network net = Network.create("vit-tiny", 3, 32, 32, 1, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            // outside training the attention takes the engine's fused kernel where it pays; a ViT has no batch norm
            // or dropout, so both passes compute the same features
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            float[] inference = net.forward(x, false).toFloatArray();
            float[] training = net.forward(x, true).toFloatArray();
            for (int i = 0; i < inference.length; i++) {
                assertEquals(training[i], inference[i], 1e-4 * (1 + Math.abs(training[i])), "feature " + i);
            }
            List<String> names = net.block().getParameters().keys();
            for (String name : List.of("02ParallelBlock_01SequentialBlock_02SelfAttention_01qkv_weight",
                    "03ParallelBlock_01SequentialBlock_02Linear_weight",
                    "03ParallelBlock_01SequentialBlock_04Linear_bias")) {
                assertTrue(names.contains(name), name + " not among " + names.subList(0, 12));
            }
        }
    }

    /**
     * In a bfloat16 training pass, the depthwise convolutions that oneDNN has no depthwise bfloat16 backward kernel
     * for (a stride above 1 or a kernel above 3×3) compute in float32 between casts: the rule, and that such a
     * network's bf16 training pass gives the float32 pass's features and weight gradients to bfloat16's precision.
     */
    @Test
    void slowDepthwiseConvolutionsTrainInFloat32WithinABFloat16Pass() {
        assertTrue(depthwise(5, 1, 16).slowDepthwiseInBFloat16());
        assertTrue(depthwise(3, 2, 16).slowDepthwiseInBFloat16());
        assertFalse(depthwise(3, 1, 16).slowDepthwiseInBFloat16());
        assertFalse(depthwise(5, 2, 4).slowDepthwiseInBFloat16(), "grouped, not depthwise");
        assertFalse(((Layers.Conv2d) Layers.conv(16, 5, 2, 1)).slowDepthwiseInBFloat16(), "a plain convolution");

        float[][] fp32 = featuresAndGradient(Precision.FP32);
        float[][] bf16 = featuresAndGradient(Precision.BF16);
        for (int k = 0; k < 2; k++) {
            double scale = 0;
            double worst = 0;
            for (int i = 0; i < fp32[k].length; i++) {
                scale = Math.max(scale, Math.abs(fp32[k][i]));
                worst = Math.max(worst, Math.abs(fp32[k][i] - bf16[k][i]));
            }
            assertTrue(worst <= 0.05 * scale, (k == 0 ? "features" : "gradient") + ": " + worst + " of " + scale);
        }
    }

    private static Layers.Conv2d depthwise(int kernel, int stride, int groups) {
        return (Layers.Conv2d) Layers.conv(16, kernel, stride, groups);
    }

    /** A depthwise 5×5 stride-2 convolution and a 1×1 one, one training pass: output and first weight's gradient. */
    private static float[][] featuresAndGradient(Precision precision) {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            ai.djl.nn.SequentialBlock block = new ai.djl.nn.SequentialBlock().add(Layers.conv(16, 5, 2, 16))
                    .add(Layers.conv(8, 1, 1, 1));
            block.setInitializer(new ai.djl.training.initializer.NormalInitializer(0.3f), Parameter.Type.WEIGHT);
            m.getEngine().setRandomSeed(5);
            block.initialize(m, ai.djl.ndarray.types.DataType.FLOAT32, new Shape(2, 16, 12, 12));
            NDArray x = m.randomNormal(new Shape(2, 16, 12, 12));
            NDArray y = trainingPass(block, x, m.randomNormal(new Shape(2, 8, 6, 6)), precision);
            Parameter first = block.getChildren().get(0).getValue().getParameters().get("weight");
            return new float[][] {y.toFloatArray(), first.getArray().getGradient().toFloatArray()};
        }
    }

    /**
     * {@code block}'s training pass over float32 {@code x} in {@code precision} (in bf16 on per-pass bfloat16 copies
     * of the weights, as the networks run it), its float32 output back-propagated against {@code upstream}.
     */
    private static NDArray trainingPass(ai.djl.nn.Block block, NDArray x, NDArray upstream, Precision precision) {
        boolean bf16 = precision == Precision.BF16;
        NDManager m = x.getManager();
        ai.djl.training.ParameterStore store = bf16
                ? new ai.coopt.engine.BFloat16Parameters(m) : new ai.djl.training.ParameterStore(m, false);
        try (GradientCollector gc = Engines.get().newGradientCollector()) {
            NDArray in = bf16 ? ai.coopt.engine.BFloat16.of(x) : x;
            NDArray out = block.forward(store, new ai.djl.ndarray.NDList(in), true).singletonOrThrow();
            NDArray y = bf16 ? ai.coopt.engine.BFloat16.toFloat32(out) : out;
            gc.backward(y.mul(upstream).sum());
            return y;
        }
    }

    /**
     * Which layers a training pass computes as a matrix product: pointwise ones over few output pixels, fewer for a
     * stride-1 layer in float32.
     */
    @Test
    void pointwiseLayersOverFewPixelsAreMatrixProducts() {
        Layers.Conv2d pointwise = (Layers.Conv2d) Layers.conv(8, 1, 1, 1);
        assertTrue(pointwise.asProduct(new Shape(128, 64, 4, 4), true));
        assertFalse(pointwise.asProduct(new Shape(128, 64, 4, 4), false), "2,048 pixels in float32");
        assertTrue(pointwise.asProduct(new Shape(128, 64, 2, 2), false), "512 pixels in float32");
        assertFalse(pointwise.asProduct(new Shape(128, 64, 8, 8), true), "8,192 pixels");
        Layers.Conv2d strided = (Layers.Conv2d) Layers.conv(8, 1, 2, 1);
        for (boolean bf16 : new boolean[] {false, true}) {
            assertTrue(strided.asProduct(new Shape(128, 64, 7, 8), bf16), "stride 2: 4×4");
            assertFalse(strided.asProduct(new Shape(128, 64, 15, 16), bf16), "stride 2: 8×8");
            assertFalse(((Layers.Conv2d) Layers.conv(8, 3, 1, 1)).asProduct(new Shape(2, 4, 4, 4), bf16), "3×3");
            assertFalse(((Layers.Conv2d) Layers.conv(8, 1, 1, 2)).asProduct(new Shape(2, 4, 4, 4), bf16), "grouped");
        }
    }

    /**
     * A pointwise layer's training pass as a matrix product, with stride 1 and 2: its output and the gradients of its
     * input and weights against float64 sums, and an optimiser step on the weight (the fused update requires the
     * gradient to be laid out as the weight is).
     */
    @ParameterizedTest
    @CsvSource({"1, FP32", "2, FP32", "1, BF16", "2, BF16"})
    void pointwiseProductMatchesTheConvolutionInValueAndGradient(int stride, Precision precision) {
        int n = 2;
        int c = 5;
        int o = 3;
        int h = 5;
        int oh = (h - 1) / stride + 1;
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Layers.Conv2d conv = (Layers.Conv2d) Layers.conv(o, 1, stride, 1);
            m.getEngine().setRandomSeed(11);
            conv.initialize(m, ai.djl.ndarray.types.DataType.FLOAT32, new Shape(n, c, h, h));
            ai.coopt.engine.Layouts.toChannelsLast(conv);
            assertTrue(conv.asProduct(new Shape(n, c, h, h), precision == Precision.BF16));
            Parameter weight = conv.getParameters().get("weight");
            NDArray x = ai.coopt.engine.Layouts.channelsLast(m.randomNormal(new Shape(n, c, h, h)));
            x.setRequiresGradient(true);
            NDArray upstream = m.randomNormal(new Shape(n, o, oh, oh));
            NDArray y = trainingPass(conv, x, upstream, precision);
            float[] xs = x.toFloatArray();
            float[] ws = weight.getArray().toFloatArray();
            float[] gs = upstream.toFloatArray();
            double[] ey = new double[n * o * oh * oh];
            double[] ex = new double[xs.length];
            double[] ew = new double[ws.length];
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < o; k++) {
                    for (int i = 0; i < oh; i++) {
                        for (int j = 0; j < oh; j++) {
                            int yi = ((b * o + k) * oh + i) * oh + j;
                            for (int ch = 0; ch < c; ch++) {
                                int xi = ((b * c + ch) * h + i * stride) * h + j * stride;
                                ey[yi] += (double) ws[k * c + ch] * xs[xi];
                                ex[xi] += (double) gs[yi] * ws[k * c + ch];
                                ew[k * c + ch] += (double) gs[yi] * xs[xi];
                            }
                        }
                    }
                }
            }
            double tolerance = precision == Precision.BF16 ? 2e-2 : 1e-5;
            assertClose(ey, y.toFloatArray(), tolerance, "output");
            assertClose(ex, x.getGradient().toFloatArray(), tolerance, "input gradient");
            assertClose(ew, weight.getArray().getGradient().toFloatArray(), tolerance, "weight gradient");
            new ai.coopt.train.AdamW(List.of(weight), 1e-3f, 0.01f).step();
        }
    }

    /** Every value within {@code relative} of the largest expected magnitude. */
    private static void assertClose(double[] expected, float[] actual, double relative, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], relative * scale, what + " " + i);
        }
    }

    /** The gate's squeeze is the mean of each channel's map, in value and in gradient (1/(H·W) everywhere). */
    @Test
    void squeezeIsTheSpatialMean() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = ai.coopt.engine.Layouts.channelsLast(m.randomNormal(new Shape(2, 3, 5, 7)));
            x.setRequiresGradient(true);
            NDArray y;
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                y = EfficientNet.spatialMean(x);
                gc.backward(y.sum());
            }
            assertEquals(new Shape(2, 3, 1, 1), y.getShape());
            float[] xs = x.toFloatArray();
            float[] ys = y.toFloatArray();
            for (int c = 0; c < 6; c++) {
                double mean = 0;
                for (int i = 0; i < 35; i++) {
                    mean += xs[c * 35 + i] / 35.0;
                }
                assertEquals(mean, ys[c], 1e-6, "channel " + c);
            }
            for (float g : x.getGradient().toFloatArray()) {
                assertEquals(1 / 35.0, g, 1e-7);
            }
        }
    }

    /** Row in the first half of the width, column in the second, each sin then cos of p·10000^(−i/(width/4)). */
    @Test
    void positionEmbeddingsEncodeRowAndColumn() {
        float[] p = VisionTransformer.positions(2, 3, 8);
        // patch (row 1, column 2) at index 5; quarter 2, so ω = 1 and 1/100
        int base = 5 * 8;
        double[] expected = {Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01),
            Math.sin(2), Math.sin(0.02), Math.cos(2), Math.cos(0.02)};
        for (int i = 0; i < 8; i++) {
            assertEquals(expected[i], p[base + i], 1e-6, "dimension " + i);
        }
    }

    @Test
    void sameSeedGivesSameWeightsAndOtherSeedsDiffer() {
        float[] a = outputs(7);
        assertArrayEquals(a, outputs(7));
        assertNotEquals(a[0], outputs(8)[0]);
    }

    private static float[] outputs(long seed) {
        try (Network net = Network.create("convnet-s", 1, 28, 28, seed, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            NDArray x = m.ones(new Shape(1, 1, 28, 28));
            return net.forward(x, false).toFloatArray();
        }
    }

    @Test
    void unknownArchitectureIsAUserErrorListingTheKnownOnes() {
        UserException e = assertThrows(UserException.class, () -> Architectures.create("resnet19"));
        assertTrue(e.getMessage().contains("convnet-s"), e.getMessage());
    }

    /** The fused attention runs where it was measured to pay: float32 anywhere, bfloat16 on a CPU only with AMX. */
    @Test
    void fusedAttentionIsChosenWhereItPays() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray fp32 = m.zeros(new Shape(2, 3, 4, 8));
            NDArray bf16 = ai.coopt.engine.BFloat16.of(fp32);
            try {
                System.setProperty(ai.coopt.engine.CpuFlags.PROPERTY, "avx512f avx512_bf16");
                assertTrue(ai.coopt.engine.FusedAttention.pays(fp32));
                assertFalse(ai.coopt.engine.FusedAttention.pays(bf16));
                System.setProperty(ai.coopt.engine.CpuFlags.PROPERTY, "avx512f avx512_bf16 amx_tile amx_bf16");
                assertTrue(ai.coopt.engine.FusedAttention.pays(bf16));
            } finally {
                System.clearProperty(ai.coopt.engine.CpuFlags.PROPERTY);
            }
        }
    }

    /**
     * vit-tiny's attention outside training (the engine's fused kernel) computes what the training form (scale,
     * product, softmax, product) computes, in float32 to rounding and in bfloat16 to its precision, against a
     * float64 reference of the formula.
     */
    @ParameterizedTest
    @CsvSource({"false", "true"})
    void fusedAttentionMatchesTheSeparateOperations(boolean bf16) {
        int n = 2;
        int t = 5;
        int heads = 3;
        int width = 12;
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray qkv = m.randomNormal(new Shape(n, t, 3 * width)).mul(2f);
            float[] packed = qkv.toFloatArray();
            NDArray input = bf16 ? ai.coopt.engine.BFloat16.of(qkv) : qkv;
            // in bfloat16 the fused kernel runs only on CPUs with AMX: stand for one
            System.setProperty(ai.coopt.engine.CpuFlags.PROPERTY, "avx512f avx512_bf16 amx_bf16");
            float[] fused;
            try {
                fused = ai.coopt.engine.BFloat16.toFloat32(VisionTransformer.attend(input, heads, false))
                        .toFloatArray();
            } finally {
                System.clearProperty(ai.coopt.engine.CpuFlags.PROPERTY);
            }
            float[] separate = ai.coopt.engine.BFloat16.toFloat32(VisionTransformer.attend(input, heads, true))
                    .toFloatArray();
            int hw = width / heads;
            double worst = 0;
            double worstSeparate = 0;
            for (int b = 0; b < n; b++) {
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < t; i++) {
                        double[] scores = new double[t];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < t; j++) {
                            for (int c = 0; c < hw; c++) {
                                scores[j] += packed[(b * t + i) * 3 * width + h * hw + c]
                                        * (double) packed[(b * t + j) * 3 * width + width + h * hw + c];
                            }
                            scores[j] /= Math.sqrt(hw);
                            max = Math.max(max, scores[j]);
                        }
                        double total = 0;
                        for (int j = 0; j < t; j++) {
                            scores[j] = Math.exp(scores[j] - max);
                            total += scores[j];
                        }
                        for (int c = 0; c < hw; c++) {
                            double out = 0;
                            for (int j = 0; j < t; j++) {
                                out += scores[j] / total * packed[(b * t + j) * 3 * width + 2 * width + h * hw + c];
                            }
                            int at = (b * t + i) * width + h * hw + c;
                            worst = Math.max(worst, Math.abs(out - fused[at]));
                            worstSeparate = Math.max(worstSeparate, Math.abs(out - separate[at]));
                        }
                    }
                }
            }
            double tolerance = bf16 ? 0.1 : 1e-5;
            assertTrue(worst < tolerance, "fused: largest difference " + worst);
            assertTrue(worstSeparate < tolerance, "separate: largest difference " + worstSeparate);
        }
    }
}
