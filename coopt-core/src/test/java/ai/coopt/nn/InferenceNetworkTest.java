package ai.coopt.nn;

import ai.coopt.engine.Engines;
import ai.coopt.engine.OneDnn;
import ai.coopt.engine.Precision;
import ai.djl.ndarray.types.DataType;
import ai.coopt.engine.NoGrad;
import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.FloatBuffer;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The folded inference form computes what the network computes in evaluation mode, and changes nothing in it. */
class InferenceNetworkTest {

    @ParameterizedTest
    @CsvSource({
        "convnet-s, 1, 28", "convnet-s, 3, 32",
        "resnet-s, 3, 32", "resnet18, 3, 32", "resnet50, 3, 32",
        "mobilenetv2, 1, 28", "mobilenetv2, 3, 32",
        "resnet101, 3, 32", "efficientnet-b0, 1, 28", "efficientnet-b0, 3, 32", "vit-tiny, 1, 28", "vit-tiny, 3, 32",
    })
    void foldedOutputsMatchTheUnfoldedNetworkAndTheNetworkIsUnchanged(String arch, int channels, int size) {
        try (Network net = Network.create(arch, channels, size, size, 3, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            giveBatchNormsNonTrivialValues(net, m, channels, size);
            String weights = net.weightsSha256();
            NDArray x = m.randomNormal(new Shape(3, channels, size, size));
            float[] input = x.toFloatArray();
            float[] expected = net.forward(x, false).toFloatArray();
            for (boolean channelsLast : new boolean[] {true, false}) {
                try (InferenceNetwork folded = InferenceNetwork.of(net, channelsLast)) {
                    assertEquals(net.featureDim(), folded.featureDim());
                    NDArray y = folded.forward(x);
                    assertEquals(new Shape(3, net.featureDim()), y.getShape());
                    assertClose(expected, y.toFloatArray(), arch + (channelsLast ? " channels-last" : " NCHW"));
                }
            }
            assertEquals(weights, net.weightsSha256(), "folding changed the network's weights");
            assertFalse(x.isReleased(), "the input was closed");
            assertArrayEquals(input, x.toFloatArray(), "the input was changed");
        }
    }

    /**
     * In bfloat16 every architecture computes what it computes in float32 to bfloat16's rounding (8 bits of mantissa:
     * a relative error of a few 1e-3 per operation, compounded over the layers), returns float32 features, and leaves
     * the network unchanged. bfloat16 runs on any CPU (emulated where the hardware lacks it), so this needs none.
     */
    @ParameterizedTest
    @CsvSource({"convnet-s, 1, 28", "resnet-s, 3, 32", "mobilenetv2, 3, 32", "efficientnet-b0, 3, 32", "vit-tiny, 3, 32"})
    void bfloat16FeaturesAreTheFloat32OnesToBfloat16Rounding(String arch, int channels, int size) {
        try (Network net = Network.create(arch, channels, size, size, 3, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            giveBatchNormsNonTrivialValues(net, m, channels, size);
            String weights = net.weightsSha256();
            NDArray x = m.randomNormal(new Shape(8, channels, size, size));
            try (InferenceNetwork fp32 = InferenceNetwork.of(net, Precision.FP32);
                 InferenceNetwork bf16 = InferenceNetwork.of(net, Precision.BF16)) {
                assertEquals(Precision.BF16, bf16.precision());
                float[] expected = fp32.forward(x).toFloatArray();
                NDArray y = bf16.forward(x);
                assertEquals(DataType.FLOAT32, y.getDataType());
                float[] actual = y.toFloatArray();
                double num = 0;
                double den = 0;
                boolean same = true;
                for (int i = 0; i < expected.length; i++) {
                    num += (expected[i] - actual[i]) * (double) (expected[i] - actual[i]);
                    den += expected[i] * (double) expected[i];
                    same &= expected[i] == actual[i];
                }
                double relative = Math.sqrt(num / den);
                assertTrue(relative < 0.05, arch + ": relative error " + relative);
                assertFalse(same, arch + ": bfloat16 gave float32's exact outputs (was it computed in bfloat16?)");
            }
            assertEquals(weights, net.weightsSha256(), "bfloat16 folding changed the network's weights");
        }
    }

    /**
     * Running statistics from a few training-mode passes over shifted, scaled inputs, and γ, β (of batch and layer
     * norms) and other parameters initialised to constants (a ViT's class token) drawn at random, so that folding
     * and copying have something to fold and copy.
     */
    private static void giveBatchNormsNonTrivialValues(Network net, NDManager m, int channels, int size) {
        for (int i = 0; i < 3; i++) {
            net.forward(m.randomNormal(new Shape(4, channels, size, size)).mul(2f).add(0.5f), true);
        }
        Random random = new Random(5);
        for (var e : net.block().getParameters()) {
            Parameter p = e.getValue();
            Parameter.Type type = p.getType();
            if (type == Parameter.Type.GAMMA || type == Parameter.Type.BETA || type == Parameter.Type.OTHER) {
                float[] v = new float[(int) p.getArray().size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = type == Parameter.Type.GAMMA ? 0.5f + random.nextFloat() : random.nextFloat() - 0.5f;
                }
                p.getArray().set(FloatBuffer.wrap(v));
            }
        }
    }

    /** Within 1e-5 of the largest magnitude of the expected output, element by element. */
    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        assertTrue(scale > 0, what + ": all outputs are zero");
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]) / scale);
        }
        assertTrue(worst <= 1e-5, what + ": largest difference " + worst + " of the largest output");
    }

    /**
     * Where oneDNN runs the convolutions, each convolution followed by its activation becomes one fused operation,
     * and so does each residual block's last convolution with the sum and the ReLU after it: convnet-s has three
     * convolutions with a ReLU each; resnet18 a stem and two per basic block (8), resnet50 a stem and three per
     * bottleneck (16); their projection shortcuts are not fused. vit-tiny's twelve MLPs each fuse their first linear
     * layer with its GELU. With oneDNN off none is, and the outputs agree either way.
     */
    @ParameterizedTest
    @CsvSource({"convnet-s, 3", "resnet18, 17", "resnet50, 49", "vit-tiny, 12"})
    void convolutionsAreFusedWithTheirActivationsWhereOneDnnRuns(String arch, int expected) {
        Engines.get();
        assumeTrue(OneDnn.enabled(), "oneDNN is off on this CPU (it hides its cache sizes), so nothing is fused");
        try (Network net = Network.create(arch, 3, 32, 32, 3, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            giveBatchNormsNonTrivialValues(net, m, 3, 32);
            NDArray x = m.randomNormal(new Shape(4, 3, 32, 32));
            float[] fused;
            try (InferenceNetwork folded = InferenceNetwork.of(net)) {
                assertEquals(expected, folded.fusedOps());
                fused = folded.forward(x).toFloatArray();
            }
            OneDnn.setEnabled(false);
            try (InferenceNetwork folded = InferenceNetwork.of(net)) {
                assertEquals(0, folded.fusedOps());
                assertClose(folded.forward(x).toFloatArray(), fused, arch + ": fused against not fused");
            } finally {
                OneDnn.setEnabled(true);
            }
        }
    }

    @Test
    void inferenceInAnotherThreadRecordsNoAutogradGraph() throws Exception {
        try (Network net = Network.create("convnet-s", 1, 28, 28, 0, Device.cpu());
             InferenceNetwork folded = InferenceNetwork.of(net)) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread worker = new Thread(() -> {
                try (NDManager m = folded.manager().newSubManager()) {
                    // PyTorch's grad mode is per thread and on by default outside the thread that loaded the engine
                    assertTrue(JniUtils.isGradMode());
                    NDArray x = m.randomNormal(new Shape(2, 1, 28, 28));
                    NDArray recorded = net.forward(x, false).sum();
                    backward(recorded);
                    NDArray y = folded.forward(x).sum();
                    assertThrows(EngineException.class, () -> backward(y), "the folded pass recorded a graph");
                    assertTrue(JniUtils.isGradMode(), "grad mode was not restored");
                    try (NoGrad ignored = NoGrad.enter()) {
                        assertFalse(JniUtils.isGradMode());
                        NDArray z = net.forward(x, false).sum();
                        assertThrows(EngineException.class, () -> backward(z));
                    }
                    assertTrue(JniUtils.isGradMode());
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "worker");
            worker.start();
            worker.join();
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
        }
    }

    private static void backward(NDArray scalar) {
        JniUtils.backward((PtNDArray) scalar, (PtNDArray) scalar.onesLike(), false, false);
    }
}
