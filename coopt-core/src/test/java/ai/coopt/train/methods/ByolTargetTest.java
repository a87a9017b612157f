package ai.coopt.train.methods;

import ai.coopt.nn.Network;
import ai.coopt.train.AdamW;
import ai.coopt.train.Method;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BYOL's momentum encoder: a frozen copy that follows the online network by the EMA formula. */
class ByolTargetTest {
    private static final MethodFixture DATA = new MethodFixture(12);

    @Test
    void targetStartsAsACopyTakesNoGradientAndMovesByTheMovingAverage() {
        float m = 0.9f;
        MethodSpec spec = MethodSpec.of("byol", null, null).with(new ByolConfig(32, 2, m));
        try (Network net = MethodFixture.backbone(1); Method byol = Methods.create(spec, net, 0)) {
            Map<String, NDArray> target = targets(byol);
            assertEquals(online(byol, net).keySet(), target.keySet());
            for (Map.Entry<String, NDArray> e : target.entrySet()) {
                assertFalse(requiresGradient(e.getValue()), e.getKey());
                assertArrayEquals(online(byol, net).get(e.getKey()).toFloatArray(), e.getValue().toFloatArray(),
                        e.getKey());
            }
            Map<String, float[]> before = snapshot(target);
            AdamW optimiser = new AdamW(byol.trainable(), 1e-2f, 0f);
            DATA.step(byol, optimiser, 1, 0);

            Map<String, NDArray> online = online(byol, net);
            Map<String, Parameter> trainable = byol.trainable();
            boolean moved = false;
            for (Map.Entry<String, NDArray> e : target.entrySet()) {
                assertFalse(requiresGradient(e.getValue()), e.getKey());
                float[] now = e.getValue().toFloatArray();
                float[] o = online.get(e.getKey()).toFloatArray();
                float[] t0 = before.get(e.getKey());
                boolean averaged = trainable.containsKey(e.getKey());
                for (int i = 0; i < now.length; i++) {
                    float expected = averaged ? m * t0[i] + (1 - m) * o[i] : o[i];
                    assertEquals(expected, now[i], 1e-6f, e.getKey() + "[" + i + "]");
                }
                moved |= averaged && !Arrays.equals(t0, now);
            }
            assertTrue(moved, "no target weight moved");
        }
    }

    @Test
    void targetPassLeavesOnlyItsDetachedOutputBehind() {
        try (Network net = MethodFixture.backbone(1); NDManager owner = net.manager().newSubManager()) {
            Head projector = Head.create("projector", Head.mlp(32, 8), net.featureDim(), owner);
            MomentumEncoder target = MomentumEncoder.create(net, projector, Head.mlp(32, 8), net.featureDim(), owner);
            try (NDManager step = owner.newSubManager()) {
                NDArray images = step.randomNormal(MethodFixture.IMAGES);
                NDArray out = target.forward(images);
                assertEquals(new Shape(MethodFixture.BATCH, 8), out.getShape());
                assertFalse(requiresGradient(out));
                // every layer's output, kept until the step ends, held more memory than the online graph itself
                assertEquals(Set.of(images.getUid(), out.getUid()), uids(((BaseNDManager) step).getManagedArrays()));
                // the images are back in the step's manager, still usable
                assertEquals(step, images.getManager());
                assertEquals(out.toFloatArray().length, target.forward(images).toFloatArray().length);
            }
        }
    }

    private static Set<String> uids(List<NDArray> arrays) {
        Set<String> out = new HashSet<>();
        arrays.forEach(a -> out.add(a.getUid()));
        return out;
    }

    /** Asks PyTorch itself, not DJL's cached flag. */
    private static boolean requiresGradient(NDArray array) {
        return JniUtils.requiresGrad((PtNDArray) array);
    }

    /** The target's arrays by the name of the online array they follow. */
    private static Map<String, NDArray> targets(Method byol) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        byol.state().forEach((k, v) -> {
            if (k.startsWith("target.")) {
                out.put(k.substring("target.".length()), v);
            }
        });
        return out;
    }

    /** The online backbone's and projector's arrays, running statistics included. */
    private static Map<String, NDArray> online(Method byol, Network net) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : net.block().getParameters()) {
            out.put("backbone." + p.getKey(), p.getValue().getArray());
        }
        byol.trainable().forEach((k, v) -> {
            if (k.startsWith("head.projector.")) {
                out.put(k, v.getArray());
            }
        });
        byol.state().forEach((k, v) -> {
            if (k.startsWith("head.projector.")) {
                out.put(k, v);
            }
        });
        return out;
    }

    private static Map<String, float[]> snapshot(Map<String, NDArray> arrays) {
        Map<String, float[]> out = new LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }
}
