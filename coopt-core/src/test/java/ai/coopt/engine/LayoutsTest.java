package ai.coopt.engine;

import ai.coopt.nn.Network;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayoutsTest {

    @Test
    void channelsLastCopiesValuesExactlyWithNhwcStrides() {
        try (NDManager m = Engines.get().newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(2, 3, 4, 5));
            float[] values = x.toFloatArray();
            values[7] = -0.0f;
            x = m.create(values, x.getShape());
            NDArray cl = Layouts.channelsLast(x);
            assertEquals(x.getShape(), cl.getShape());
            assertBitsEqual(values, cl.toFloatArray());
            assertTrue(isChannelsLast(cl));
            assertFalse(isChannelsLast(x));
            // a copy: changing it leaves the original alone
            cl.addi(m.ones(new Shape(1)));
            assertBitsEqual(values, x.toFloatArray());
        }
    }

    @Test
    void oneChannelOrOnePixelArraysAreCopiedToo() {
        try (NDManager m = Engines.get().newBaseManager()) {
            for (Shape s : new Shape[] {new Shape(4, 1, 3, 3), new Shape(4, 6, 1, 1)}) {
                NDArray x = m.randomNormal(s);
                float[] values = x.toFloatArray();
                NDArray copy = Layouts.channelsLast(x);
                copy.addi(m.ones(new Shape(1)));
                assertBitsEqual(values, x.toFloatArray());
            }
        }
    }

    @Test
    void networksKeepConvolutionWeightsChannelsLastWithTheirValuesAndGradients() {
        try (Network net = Network.create("resnet-s", 3, 32, 32, 4, Device.cpu())) {
            int fourD = 0;
            for (var e : net.block().getParameters()) {
                Parameter p = e.getValue();
                NDArray a = p.getArray();
                if (a.getShape().dimension() == 4) {
                    fourD++;
                    assertTrue(isChannelsLast(a), e.getKey());
                    assertEquals(p.requiresGradient(), a.hasGradient(), e.getKey());
                    // values loaded into it keep the layout
                    float[] v = a.toFloatArray();
                    ArrayValues.assign(a, v);
                    assertTrue(isChannelsLast(a), e.getKey());
                    assertArrayEquals(v, a.toFloatArray(), e.getKey());
                }
            }
            assertTrue(fourD > 0);
        }
    }

    private static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "element " + i);
        }
    }

    /**
     * Whether the N×C×H×W array is stored channels-last: its N×H×W×C view is contiguous, and (unless one channel or
     * one pixel makes the two orders the same) the array is not contiguous as NCHW. DJL does not expose strides, so
     * this asks libtorch through DJL's (package-private) native binding.
     */
    static boolean isChannelsLast(NDArray array) {
        long[] s = array.getShape().getShape();
        try (NDArray nhwc = array.transpose(0, 2, 3, 1)) {
            return isContiguous(nhwc) && (s[1] == 1 || s[2] * s[3] == 1 || !isContiguous(array));
        }
    }

    private static boolean isContiguous(NDArray array) {
        try {
            Class<?> library = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            Field lib = library.getDeclaredField("LIB");
            lib.setAccessible(true);
            Method method = library.getDeclaredMethod("torchIsContiguous", long.class);
            method.setAccessible(true);
            return (boolean) method.invoke(lib.get(null), ((PtNDArray) array).getHandle());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
