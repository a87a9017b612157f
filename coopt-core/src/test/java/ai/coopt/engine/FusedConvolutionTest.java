package ai.coopt.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The fused convolution and activation against the two operations run one after the other. */
class FusedConvolutionTest {
    private static NDArray separately(NDArray x, NDArray w, NDArray b, Shape stride, Shape padding, int groups,
            FusedConvolution.Activation activation) {
        try (NDArray y = x.getNDArrayInternal().convolution(x, w, b, stride, padding, new Shape(1, 1), groups)
                .singletonOrThrow()) {
            return switch (activation) {
                case RELU -> y.getNDArrayInternal().relu();
                case RELU6 -> FusedActivations.relu6(y);
                case SILU -> FusedActivations.silu(y);
            };
        }
    }

    /** A plain, a strided and a depthwise convolution, in channels-last layout as the folded networks run them. */
    @ParameterizedTest
    @CsvSource({"RELU, 1, 1, false, 12", "RELU6, 2, 1, false, 12", "SILU, 1, 16, false, 12",
                "RELU, 2, 1, true, 12", "RELU6, 1, 16, true, 12", "SILU, 2, 1, true, 12",
                "RELU, 1, 1, false, 1", "RELU6, 1, 16, true, 1", "SILU, 2, 1, true, 2"})
    void matchesTheConvolutionThenTheActivation(FusedConvolution.Activation activation, int stride, int groups,
            boolean bf16, int size) {
        Engines.get();
        assumeTrue(OneDnn.enabled(), "oneDNN is off on this CPU (it hides its cache sizes), so nothing is fused");
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = Layouts.channelsLast(m.randomNormal(new Shape(4, 16, size, size)).mul(3f));
            NDArray w = Layouts.channelsLast(m.randomNormal(new Shape(32, 16 / groups, 3, 3)).mul(0.3f));
            NDArray b = m.randomNormal(new Shape(32));
            if (bf16) {
                x = BFloat16.of(x);
                w = BFloat16.of(w);
                b = BFloat16.of(b);
            }
            Shape strides = new Shape(stride, stride);
            Shape padding = new Shape(1, 1);
            try (NoGrad ignored = NoGrad.enter()) {
                NDArray expected = separately(x, w, b, strides, padding, groups, activation)
                        .toType(DataType.FLOAT32, false);
                NDArray fused = FusedConvolution.apply(x, w, b, strides, padding, new Shape(1, 1), groups, activation);
                assertEquals(x.getDataType(), fused.getDataType());
                assertEquals(expected.getShape(), fused.getShape());
                float[] e = expected.toFloatArray();
                float[] f = fused.toType(DataType.FLOAT32, false).toFloatArray();
                double scale = 0;
                double worst = 0;
                int clipped = 0;
                for (int i = 0; i < e.length; i++) {
                    scale = Math.max(scale, Math.abs(e[i]));
                    worst = Math.max(worst, Math.abs(e[i] - f[i]));
                    clipped += e[i] == 0f || e[i] == 6f ? 1 : 0;
                }
                // one rounding in the output's precision at most: float32's or bfloat16's last bit
                assertTrue(worst <= (bf16 ? 1e-2 : 1e-6) * scale, activation + ": largest difference " + worst
                        + " of " + scale);
                if (activation != FusedConvolution.Activation.SILU) {
                    assertTrue(clipped > 0, "the inputs never reach the activation's bounds");
                }
            }
        }
    }

    /**
     * A residual sum fused in: the ReLU of the convolution plus the shortcut, written into the shortcut's memory
     * (except on 1×1 maps, which take the separate operations); the result outlives the shortcut's array.
     */
    @ParameterizedTest
    @CsvSource({"false, 12", "true, 12", "false, 1", "true, 1", "false, 2", "true, 3"})
    void addsTheShortcutBeforeTheRelu(boolean bf16, int size) {
        Engines.get();
        assumeTrue(OneDnn.enabled(), "oneDNN is off on this CPU (it hides its cache sizes), so nothing is fused");
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = Layouts.channelsLast(m.randomNormal(new Shape(4, 16, size, size)));
            NDArray other = Layouts.channelsLast(m.randomNormal(new Shape(4, 24, size, size)).mul(2f));
            NDArray w = Layouts.channelsLast(m.randomNormal(new Shape(24, 16, 3, 3)).mul(0.3f));
            NDArray b = m.randomNormal(new Shape(24));
            if (bf16) {
                x = BFloat16.of(x);
                other = BFloat16.of(other);
                w = BFloat16.of(w);
                b = BFloat16.of(b);
            }
            Shape one = new Shape(1, 1);
            try (NoGrad ignored = NoGrad.enter()) {
                NDArray conv = x.getNDArrayInternal().convolution(x, w, b, one, one, one, 1).singletonOrThrow();
                NDArray sum = conv.add(other);
                NDArray expected = sum.getNDArrayInternal().relu();
                NDArray fused = FusedConvolution.applyWithSumAndReluInto(other, x, w, b, one, one, one, 1);
                float[] written = other.toType(DataType.FLOAT32, false).toFloatArray();
                other.close();
                float[] e = expected.toType(DataType.FLOAT32, false).toFloatArray();
                float[] f = fused.toType(DataType.FLOAT32, false).toFloatArray();
                double scale = 0;
                double worst = 0;
                for (int i = 0; i < e.length; i++) {
                    scale = Math.max(scale, Math.abs(e[i]));
                    worst = Math.max(worst, Math.abs(e[i] - f[i]));
                }
                // the separate form rounds the convolution's output before the sum; the fused one need not
                assertTrue(worst <= (bf16 ? 2e-2 : 1e-6) * scale, "largest difference " + worst
                        + " of " + scale);
                if (size > 1) {
                    assertTrue(java.util.Arrays.equals(f, written), "the sum was not written into the shortcut");
                }
                assertTrue(LayoutsTest.isChannelsLast(fused), "the result left the channels-last layout");
            }
        }
    }

    @Test
    void unavailableWithOneDnnOff() {
        Engines.get();
        boolean on = OneDnn.enabled();
        OneDnn.setEnabled(false);
        try {
            assertFalse(FusedConvolution.available(Device.cpu()));
        } finally {
            if (on) {
                OneDnn.setEnabled(true);
            }
        }
        assertEquals(on, FusedConvolution.available(Device.cpu()));
    }
}
