package ai.coopt.nn;

import ai.coopt.engine.BFloat16Parameters;
import ai.coopt.engine.Engines;
import ai.coopt.engine.Layouts;
import ai.coopt.engine.Precision;
import ai.djl.Device;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The freeing pass computes what DJL's blocks compute (bit for bit where its fused activations allow), gradients
 * included, and leaves nothing but its output in the pass's manager (DJL's own pass left every layer's output there).
 */
class FreeingForwardTest {

    @ParameterizedTest
    @CsvSource({"convnet-s, 1, 16", "resnet-s, 3, 16", "resnet18, 3, 16", "resnet50, 3, 16", "mobilenetv2, 3, 16",
        "efficientnet-b0, 3, 16", "vit-tiny, 3, 16"})
    void sameBitsAndGradientsAsDjlsPassWithNothingLeftBehind(String arch, int channels, int size) {
        try (Setup s = Setup.of(arch, channels, size)) {
            Pass djl = s.pass(x -> s.net.block().forward(s.store, new NDList(x), true).singletonOrThrow(), false);
            Pass freeing = s.pass(x -> FreeingForward.forward(s.net.block(), s.store, x, true), true);
            if (arch.equals("efficientnet-b0")) {
                // the engine's one-kernel SiLU rounds differently from a sigmoid and a product
                assertClose(djl.out, freeing.out, 1e-5, arch);
            } else {
                assertArrayEquals(djl.out, freeing.out, arch);
            }
            // the fused backward passes hand the convolutions gradients in another memory layout, which changes the
            // order of their sums: the gradients agree to rounding, measured against their overall size (a batch-norm
            // shift before a convolution has a true gradient of zero and only rounding to compare)
            assertClose(djl.gradients, freeing.gradients, 1e-4, arch + " gradients");
        }
    }

    /**
     * The float32 entry makes NCHW images channels-last once before the first convolution (which otherwise made its
     * own copy twice a step): the same bits out and in every gradient as the pass given the NCHW images, and
     * nothing left in the pass's manager but its input and output.
     */
    @ParameterizedTest
    @CsvSource({"convnet-s, 3, 16", "resnet-s, 3, 16", "mobilenetv2, 3, 16", "vit-tiny, 3, 16", "convnet-s, 1, 16"})
    void imagesMadeChannelsLastOnceChangeNoBit(String arch, int channels, int size) {
        try (Setup s = Setup.of(arch, channels, size)) {
            Pass nchw = s.pass(x -> FreeingForward.forward(s.net.block(), s.store, x, true), true);
            Pass once = s.pass(x -> FreeingForward.forward(s.net.block(), s.store, x, true, Precision.FP32), true);
            assertArrayEquals(nchw.out, once.out, arch);
            assertArrayEquals(nchw.gradients, once.gradients, arch + " gradients");
        }
    }

    /**
     * A max-pool after a ReLU runs before it, and the global average pool over the channels-last rows: against DJL's
     * own blocks given the same channels-last images, in float32 and bfloat16, the same bits out and the same
     * gradients.
     */
    @ParameterizedTest
    @CsvSource({"convnet-s, FP32", "convnet-s, BF16", "resnet50, FP32", "resnet50, BF16", "resnet-s, BF16"})
    void poolBeforeReluAndMeanOverRowsChangeNoBit(String arch, Precision precision) {
        try (Setup s = Setup.of(arch, 3, 32)) {
            // DJL's blocks given the images as the training entry hands them on: channels-last (in bf16, by the cast)
            BFloat16Parameters.Pass blocks = (store, in) -> s.net.block().forward(store, new NDList(in), true)
                    .singletonOrThrow();
            Pass djl = s.pass(x -> precision == Precision.BF16 ? BFloat16Parameters.forward(x, blocks)
                    : blocks.apply(s.store, Layouts.channelsLast(x)), false);
            Pass freeing = s.pass(x -> FreeingForward.forward(s.net.block(), s.store, x, true, precision), false);
            assertArrayEquals(djl.out, freeing.out, arch);
            assertArrayEquals(djl.gradients, freeing.gradients, arch + " gradients");
        }
    }

    /**
     * The reordered max-pool on input made of ties (between positive values, and windows with nothing above zero)
     * and the mean over rows: the values and the input's gradient are DJL's blocks', bit for bit.
     */
    @Test
    void poolBeforeReluSendsTheGradientWhereDjlsBlocksDo() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            // values in {-1, -0.5, 0, 0.5, 1}: most 2×2 windows hold a tie, and many have no positive value
            NDArray grid = m.randomInteger(-2, 3, new Shape(2, 3, 6, 6), DataType.INT32).toType(DataType.FLOAT32, false)
                    .mul(0.5f);
            NDArray x = Layouts.channelsLast(grid);
            NDArray weights = m.randomNormal(new Shape(2, 3));
            Block block = new SequentialBlock()
                    .add(new SequentialBlock().add(Activation.reluBlock()))
                    .add(Pool.maxPool2dBlock(new Shape(2, 2)))
                    .add(Activation.reluBlock())
                    .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)))
                    .add(Pool.globalAvgPool2dBlock());
            block.initialize(m, DataType.FLOAT32, x.getShape());
            ParameterStore store = new ParameterStore(m, false);
            float[][] djl = inputPass(x, weights, in -> block.forward(store, new NDList(in), true).singletonOrThrow());
            float[][] freeing = inputPass(x, weights, in -> FreeingForward.forward(block, store, in, true));
            assertArrayEquals(djl[0], freeing[0], "values");
            assertArrayEquals(djl[1], freeing[1], "the input's gradient");
            assertTrue(countNonZero(freeing[1]) > 0, "some gradient reaches the input");
        }
    }

    /** The output of {@code forward} on {@code x} and the gradient of the output weighted by {@code weights}. */
    private static float[][] inputPass(NDArray x, NDArray weights, UnaryOperator<NDArray> forward) {
        try (NDManager pass = x.getManager().newSubManager()) {
            NDArray in = x.duplicate();
            in.attach(pass);
            in.setRequiresGradient(true);
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                NDArray y = forward.apply(in).reshape(weights.getShape());
                gc.backward(y.mul(weights).sum());
                return new float[][] {y.toFloatArray(), in.getGradient().toFloatArray()};
            }
        }
    }

    private static int countNonZero(float[] values) {
        int n = 0;
        for (float v : values) {
            n += v != 0 ? 1 : 0;
        }
        return n;
    }

    /** A training pass's output and its parameters' gradients, concatenated. */
    private record Pass(float[] out, float[] gradients) {}

    /** A network, a batch of 3 images and the weights of the scalar a pass's backward starts from. */
    private record Setup(Network net, NDManager m, ParameterStore store, NDArray x, NDArray weights)
            implements AutoCloseable {
        static Setup of(String arch, int channels, int size) {
            Network net = Network.create(arch, channels, size, size, 4, Device.cpu());
            NDManager m = net.manager().newSubManager();
            return new Setup(net, m, new ParameterStore(m, false), m.randomNormal(new Shape(3, channels, size, size)),
                    m.randomNormal(new Shape(3, net.featureDim())));
        }

        /**
         * {@code forward} of the images in a manager of its own, then backward from the output weighted by
         * {@link #weights}; with {@code freeing}, asserts that nothing but the input and output is left in that
         * manager. The gradients are cleared afterwards.
         */
        Pass pass(UnaryOperator<NDArray> forward, boolean freeing) {
            float[] out;
            try (NDManager pass = m.newSubManager()) {
                x.tempAttach(pass);
                try (GradientCollector gc = Engines.get().newGradientCollector()) {
                    NDArray y = forward.apply(x);
                    if (freeing) {
                        assertEquals(Set.of(x.getUid(), y.getUid()), uids(pass),
                                net.arch() + ": arrays left in the pass");
                    }
                    out = y.toFloatArray();
                    gc.backward(y.mul(weights).sum());
                }
                return new Pass(out, concatenated(gradients(net)));
            }
        }

        @Override
        public void close() {
            m.close();
            net.close();
        }
    }

    /** {@code |actual - expected| <= tolerance * |expected|} in the Euclidean norm. */
    private static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            difference += Math.pow(actual[i] - expected[i], 2);
            norm += Math.pow(expected[i], 2);
        }
        assertTrue(Math.sqrt(difference) <= tolerance * Math.sqrt(norm),
                what + ": relative difference " + Math.sqrt(difference / norm));
    }

    private static float[] concatenated(List<float[]> arrays) {
        float[] out = new float[arrays.stream().mapToInt(a -> a.length).sum()];
        int at = 0;
        for (float[] a : arrays) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    /** The gradients, which are then cleared (the engine adds each backward pass's to them). */
    private static List<float[]> gradients(Network net) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : net.trainableParameters()) {
            try (NDArray g = p.getArray().getGradient()) {
                out.add(g.toFloatArray());
                g.subi(g);
            }
        }
        return out;
    }

    private static Set<String> uids(NDManager manager) {
        Set<String> out = new HashSet<>();
        for (NDArray a : ((BaseNDManager) manager).getManagedArrays()) {
            out.add(a.getUid());
        }
        return out;
    }
}
