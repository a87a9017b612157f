package ai.coopt.train;

import ai.coopt.engine.Engines;
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
}
