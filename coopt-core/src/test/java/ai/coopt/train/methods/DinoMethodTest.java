package ai.coopt.train.methods;

import ai.coopt.engine.Engines;
import ai.coopt.nn.Network;
import ai.coopt.train.AdamW;
import ai.coopt.train.Method;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DINO in its first steps, where a time budget puts the schedules anywhere: at step 2 the share of the run done is
 * whatever the first step's wall-clock time made it, so the last layer may still be frozen or long free, the teacher's
 * temperature anywhere on its warm-up and its momentum anywhere up to 1.
 */
class DinoMethodTest {
    private static final MethodFixture DATA = new MethodFixture(23);

    /**
     * DINO cancels the last layer's gradient while it is frozen. PyTorch adds each backward pass to the last gradient,
     * and the update used to skip a frozen parameter without clearing it, so the first free step moved the last layer
     * by the sum of every frozen step's gradient: as many terms as the wall clock let into the frozen share of a time
     * budget, none of them restored by a resume.
     */
    @Test
    void aFrozenLastLayersGradientIsCancelledNotSavedForItsFirstFreeStep() {
        MethodSpec spec = SslMethodsFixtures.small("dino")
                .with(new DinoConfig(64, 0, 32, 0.1, 0.07, 0.04, 0.3, 0.996, 0.9, 0.5, 3.0, 2));
        float[] once;
        float[] afterFrozenSteps;
        String last;
        try (Network net = MethodFixture.backbone(31); Method dino = Methods.create(spec, net, 0)) {
            last = lastLayer(dino);
            AdamW optimiser = new AdamW(dino.trainable(), 1e-2f, 0f);
            DATA.step(dino, optimiser, 1, 0.1);
            DATA.step(dino, optimiser, 2, 0.2);
            try (NDArray g = dino.trainable().get(last).getArray().getGradient()) {
                assertEquals(0f, g.abs().max().getFloat(), "frozen: its gradient is cancelled");
            }
            DATA.step(dino, optimiser, 3, 0.6);
            afterFrozenSteps = dino.trainable().get(last).getArray().toFloatArray();
        }
        // the same step 3 without the frozen steps' gradients: the last layer is where the loop's own leaves it
        try (Network net = MethodFixture.backbone(31); Method dino = Methods.create(spec, net, 0)) {
            AdamW optimiser = new AdamW(dino.trainable(), 1e-2f, 0f);
            DATA.step(dino, optimiser, 1, 0.1);
            DATA.step(dino, optimiser, 2, 0.2);
            MethodFixture.zeroGradients(dino);
            DATA.step(dino, optimiser, 3, 0.6);
            once = dino.trainable().get(last).getArray().toFloatArray();
        }
        assertArrayEquals(once, afterFrozenSteps, last);
    }

    /**
     * The published defaults (4096 prototypes, eight small views) at schedule positions 0, 0.5, 0.99 and 1 from step
     * 2 on, on the inputs that probe every division, norm and log of the heads and the loss: two identical views, and
     * all-zero images (every row of the batch the same: batch norm sees no variance, the features and the bottleneck
     * rows are 0, the student's logits all equal). Losses, parameters, centre and teacher stay finite.
     */
    @ParameterizedTest
    @ValueSource(strings = {"identical", "zero"})
    void theDefaultsStayFiniteAtAnyScheduleStageOnDegenerateViews(String views) {
        for (double p : new double[] {0, 0.5, 0.99, 1.0}) {
            try (Network net = MethodFixture.backbone(32);
                 Method dino = Methods.create(MethodSpec.of("dino", null, null), net, 0)) {
                AdamW optimiser = new AdamW(dino.trainable(), 1e-3f, 0.04f);
                for (int step = 1; step <= 3; step++) {
                    float loss = step(dino, optimiser, step, step == 1 ? 0 : p, views.equals("zero"));
                    assertTrue(Float.isFinite(loss), views + " at " + p + ": loss " + loss + " at step " + step);
                }
                for (Map.Entry<String, Parameter> e : dino.trainable().entrySet()) {
                    assertFinite(e.getValue().getArray(), views + " at " + p + ": " + e.getKey());
                }
                for (Map.Entry<String, NDArray> e : dino.state().entrySet()) {
                    assertFinite(e.getValue(), views + " at " + p + ": " + e.getKey());
                }
            }
        }
    }

    /** One step as the loop takes it, on two identical views (the fixture's first) or on all-zero images. */
    private static float step(Method method, AdamW optimiser, long step, double fractionDone, boolean zero) {
        float value;
        try (NDManager m = method.backbone().manager().newSubManager()) {
            TrainingBatch b = DATA.batch(m, method, step, fractionDone);
            NDArray v1 = zero ? b.view1().zerosLike() : b.view1();
            NDArray locals = zero ? b.locals().zerosLike() : b.locals();
            TrainingBatch batch = new TrainingBatch(b.indices(), v1, v1, b.targets(), m, locals, b.localCount(), step,
                    fractionDone);
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                NDArray loss = method.loss(batch);
                gc.backward(loss);
                value = loss.getFloat();
            }
            for (Map.Entry<String, Parameter> e : method.trainable().entrySet()) {
                try (NDArray g = e.getValue().getArray().getGradient()) {
                    assertFinite(g, "gradient of " + e.getKey() + " at step " + step);
                }
            }
            method.beforeStep(step, fractionDone);
            optimiser.step(method.active());
        }
        method.afterStep(step, fractionDone, value);
        return value;
    }

    private static String lastLayer(Method dino) {
        return dino.trainable().keySet().stream().filter(k -> k.contains("NormalizedLinear")).findFirst().orElseThrow();
    }

    private static void assertFinite(NDArray a, String what) {
        for (float v : a.toFloatArray()) {
            assertTrue(Float.isFinite(v), what + " is not finite");
        }
    }
}
