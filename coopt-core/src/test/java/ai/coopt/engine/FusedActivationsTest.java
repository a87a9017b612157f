package ai.coopt.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The engine's single-operation activations against their definitions, values and gradients. */
class FusedActivationsTest {
    private static final float[] X = {-3f, -0f, 0f, 1e-30f, 0.5f, 2f, 5.999999f, 6f, 6.000001f, 40f};

    @Test
    void relu6ClampsToZeroAndSixAndPassesGradientStrictlyBetween() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = m.create(X);
            x.setRequiresGradient(true);
            float[] expected = new float[X.length];
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = FusedActivations.relu6(x);
                float[] values = y.toFloatArray();
                for (int i = 0; i < X.length; i++) {
                    assertEquals(Math.min(Math.max(X[i], 0f), 6f), values[i], 0f, "relu6(" + X[i] + ")");
                    expected[i] = X[i] > 0 && X[i] < 6 ? 3f : 0f;
                }
                gc.backward(y.mul(3f).sum());
            }
            assertArrayEquals(expected, x.getGradient().toFloatArray());
        }
    }

    @Test
    void siluIsXTimesItsSigmoidWithThatDerivative() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = m.create(X);
            x.setRequiresGradient(true);
            float[] values;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = FusedActivations.silu(x);
                values = y.toFloatArray();
                gc.backward(y.sum());
            }
            float[] gradient = x.getGradient().toFloatArray();
            for (int i = 0; i < X.length; i++) {
                double s = 1 / (1 + Math.exp(-X[i]));
                assertEquals(X[i] * s, values[i], 1e-6 * Math.max(1, Math.abs(X[i])), "silu(" + X[i] + ")");
                assertEquals(s * (1 + X[i] * (1 - s)), gradient[i], 1e-6, "silu'(" + X[i] + ")");
            }
        }
    }

    @Test
    void relu6TrainsInBFloat16() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = m.create(X);
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = BFloat16.toFloat32(FusedActivations.relu6(BFloat16.of(x)));
                float[] values = y.toFloatArray();
                for (int i = 0; i < X.length; i++) {
                    assertEquals(Math.min(Math.max(X[i], 0f), 6f), values[i], 0.02f, "relu6(" + X[i] + ")");
                }
                gc.backward(y.sum());
            }
            float[] gradient = x.getGradient().toFloatArray();
            // bfloat16 rounds 5.999999 and 6.000001 to 6: no gradient there
            float[] expected = {0, 0, 0, 1, 1, 1, 0, 0, 0, 0};
            assertArrayEquals(expected, gradient);
        }
    }
}
