package ai.coopt.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The fused linear layer (and GELU) against a float64 reference of the formula. */
class FusedLinearTest {
    /**
     * Rows of tokens (N×T×D, as a ViT's MLP meets them) and a plain batch (N×D), in float32 and bfloat16: each output
     * is {@code gelu(w·x + b)} (exact, erf form) or {@code w·x + b}, to float32's rounding or bfloat16's, in the
     * input's shape and type.
     */
    @ParameterizedTest
    @CsvSource({"NONE, false, true", "GELU, false, true", "NONE, true, true", "GELU, true, true",
                "NONE, false, false", "GELU, true, false"})
    void matchesTheFormula(FusedLinear.Activation activation, boolean bf16, boolean tokens) {
        Engines.get();
        assumeTrue(OneDnn.enabled(), "oneDNN is off on this CPU (it hides its cache sizes), so nothing is fused");
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Shape in = tokens ? new Shape(3, 5, 24) : new Shape(7, 24);
            NDArray x = m.randomNormal(in);
            NDArray w = m.randomNormal(new Shape(40, 24)).mul(0.3f);
            NDArray b = m.randomNormal(new Shape(40));
            if (bf16) {
                x = BFloat16.of(x);
                w = BFloat16.of(w);
                b = BFloat16.of(b);
            }
            float[] xs = x.toType(DataType.FLOAT32, false).toFloatArray();
            float[] ws = w.toType(DataType.FLOAT32, false).toFloatArray();
            float[] bs = b.toType(DataType.FLOAT32, false).toFloatArray();
            try (NoGrad ignored = NoGrad.enter()) {
                NDArray y = FusedLinear.apply(x, w, b, activation);
                assertEquals(x.getDataType(), y.getDataType());
                long rows = in.size() / 24;
                Shape out = tokens ? new Shape(3, 5, 40) : new Shape(7, 40);
                assertEquals(out, y.getShape());
                float[] ys = y.toType(DataType.FLOAT32, false).toFloatArray();
                double worst = 0;
                double scale = 0;
                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < 40; o++) {
                        double v = bs[o];
                        for (int i = 0; i < 24; i++) {
                            v += (double) ws[o * 24 + i] * xs[r * 24 + i];
                        }
                        double expected = activation == FusedLinear.Activation.GELU
                                ? v * 0.5 * (1 + erf(v / Math.sqrt(2))) : v;
                        scale = Math.max(scale, Math.abs(expected));
                        worst = Math.max(worst, Math.abs(expected - ys[r * 40 + o]));
                    }
                }
                // float32: summation order only; bfloat16: a rounding of the output (8 bits) and of the products' terms
                assertTrue(worst <= (bf16 ? 2e-2 : 1e-5) * scale, activation + ": largest difference " + worst
                        + " of " + scale);
            }
        }
    }

    /** It runs where it was measured to pay: float32 layers, not bfloat16 ones. */
    @Test
    void runsForFloat32LayersOnly() {
        Engines.get();
        assumeTrue(OneDnn.enabled(), "oneDNN is off on this CPU (it hides its cache sizes), so nothing is fused");
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray w = m.zeros(new Shape(4, 3));
            assertTrue(FusedLinear.pays(w));
            assertFalse(FusedLinear.pays(BFloat16.of(w)));
        }
    }

    /** erf from the Chebyshev fit of erfc in Numerical Recipes (fractional error below 1.2e-7). */
    private static double erf(double z) {
        double t = 1.0 / (1.0 + 0.5 * Math.abs(z));
        double y = 1 - t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return z >= 0 ? y : -y;
    }
}
