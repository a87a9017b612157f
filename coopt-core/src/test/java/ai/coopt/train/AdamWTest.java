package ai.coopt.train;

import ai.coopt.engine.Engines;
import ai.coopt.engine.Layouts;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.initializer.ConstantInitializer;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamWTest {
    private static Parameter parameter(NDManager m, float value) {
        Parameter p = Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).optShape(new Shape(3)).build();
        p.setInitializer(new ConstantInitializer(value));
        p.initialize(m, DataType.FLOAT32);
        return p;
    }

    private static void backward(Parameter p) {
        try (GradientCollector gc = Engines.get().newGradientCollector()) {
            gc.backward(p.getArray().mul(2f).sum());
        }
    }

    @Test
    void firstStepMovesEachWeightByTheLearningRateAndZeroesTheGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = parameter(m, 1f);
            AdamW opt = new AdamW(Map.of("w", p), 0.1f, 0f);
            backward(p);
            opt.step();
            // Adam's first bias-corrected step is lr * g / |g| = lr whatever the gradient's size
            assertArrayEquals(new float[] {0.9f, 0.9f, 0.9f}, p.getArray().toFloatArray(), 1e-6f);
            try (NDArray g = p.getArray().getGradient()) {
                assertArrayEquals(new float[] {0, 0, 0}, g.toFloatArray());
            }
            assertEquals(1, opt.steps());
        }
    }

    /**
     * A gradient computed while a parameter is left out of the update (DINO's frozen last layer) is dropped: PyTorch
     * adds each backward pass to the last gradient, so without that the first active step would move the weight by the
     * sum of every idle step's gradient (here +5 - 1 = +4, the wrong way) instead of its own (-1).
     */
    @Test
    void anIdleParametersGradientIsDroppedNotAddedToItsFirstUpdate() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = parameter(m, 1f);
            AdamW opt = new AdamW(Map.of("w", p), 0.1f, 0f);
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                gc.backward(p.getArray().mul(5f).sum());
            }
            opt.step(java.util.Set.of());
            assertArrayEquals(new float[] {1, 1, 1}, p.getArray().toFloatArray(), "idle: not moved");
            try (NDArray g = p.getArray().getGradient()) {
                assertArrayEquals(new float[] {0, 0, 0}, g.toFloatArray(), "idle: its gradient dropped");
            }
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                gc.backward(p.getArray().mul(-1f).sum());
            }
            opt.step(java.util.Set.of("w"));
            float[] w = p.getArray().toFloatArray();
            for (float v : w) {
                assertTrue(v > 1f, "the gradient -1 moves the weight up, not down: " + v);
            }
        }
    }

    @Test
    void decoupledWeightDecayShrinksWeightsByLrTimesDecay() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = parameter(m, 2f);
            AdamW opt = new AdamW(Map.of("w", p), 0.1f, 0.5f);
            backward(p);
            opt.step();
            // PyTorch AdamW: w <- w - lr*wd*w - lr * m_hat / (sqrt(v_hat) + eps) = 2 - 0.1 - 0.1
            assertArrayEquals(new float[] {1.8f, 1.8f, 1.8f}, p.getArray().toFloatArray(), 1e-5f);
        }
    }

    @Test
    void restoredStateContinuesExactlyLikeTheOriginal() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter a = parameter(m, 1f);
            AdamW original = new AdamW(Map.of("w", a), 0.05f, 0.01f);
            for (int i = 0; i < 3; i++) {
                backward(a);
                original.step();
            }
            Parameter b = parameter(m, 0f);
            b.getArray().set(FloatBuffer.wrap(a.getArray().toFloatArray()));
            AdamW copy = new AdamW(Map.of("w", b), 0.05f, 0.01f);
            original.state().forEach((name, arr) -> copy.state().get(name).set(FloatBuffer.wrap(arr.toFloatArray())));
            copy.restoreSteps(original.steps());
            backward(a);
            original.step();
            backward(b);
            copy.step();
            assertArrayEquals(a.getArray().toFloatArray(), b.getArray().toFloatArray());
        }
    }

    /**
     * Three steps on a 4-D weight in channels-last layout (how every convolution weight is kept) against PyTorch's
     * AdamW in float64, element by element: the fused kernel walks memory, so a layout mix-up between a weight, its
     * gradient and its moments would update the wrong elements.
     */
    @Test
    void channelsLastWeightsFollowPyTorchsAdamWElementByElement() {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape shape = new Shape(2, 3, 2, 2);
            int n = (int) shape.size();
            float[] w0 = new float[n];
            float[] c = new float[n];
            for (int i = 0; i < n; i++) {
                w0[i] = 0.1f * i - 1f;
                c[i] = (i % 5 - 2) * 0.3f + 0.05f * i;
            }
            Parameter p = Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).optShape(shape).build();
            p.setInitializer(new ConstantInitializer(0f));
            p.initialize(m, DataType.FLOAT32);
            p.getArray().set(FloatBuffer.wrap(w0));
            NDArray array = p.getArray();
            array.intern(Layouts.channelsLast(array));
            array.setRequiresGradient(true);
            float lr = 0.1f;
            float wd = 0.01f;
            AdamW opt = new AdamW(Map.of("w", p), lr, wd);
            NDArray coefficients = m.create(c, shape);
            for (int step = 0; step < 3; step++) {
                try (GradientCollector gc = Engines.get().newGradientCollector()) {
                    gc.backward(p.getArray().mul(coefficients).sum());
                }
                opt.step();
            }
            float[] got = p.getArray().toFloatArray();
            for (int i = 0; i < n; i++) {
                double w = w0[i];
                double mean = 0;
                double var = 0;
                for (int t = 1; t <= 3; t++) {
                    w *= 1 - (double) lr * wd;
                    mean = 0.9 * mean + 0.1 * c[i];
                    var = 0.999 * var + 0.001 * c[i] * (double) c[i];
                    double denom = Math.sqrt(var) / Math.sqrt(1 - Math.pow(0.999, t)) + 1e-8;
                    w -= lr / (1 - Math.pow(0.9, t)) * mean / denom;
                }
                assertEquals(w, got[i], 1e-5, "element " + i);
            }
        }
    }
}
