package ai.coopt.train.methods;

import ai.coopt.data.MultiCrop;
import ai.coopt.engine.Engines;
import ai.coopt.nn.Network;
import ai.coopt.train.AdamW;
import ai.coopt.train.Method;
import ai.djl.Device;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The five methods added for the paper's Table 1 (MoCo v2, SimSiam, DINO, SwAV, DCL) on a fixed synthetic batch. */
class SslMethodsTest {
    private static final MethodFixture DATA = new MethodFixture(21);

    static MethodSpec small(String name) {
        return SslMethodsFixtures.small(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"moco", "simsiam", "dino", "swav", "dcl"})
    void stepsGiveFiniteLossesTrainTheBackboneAndLeaveNoArraysBehind(String name) {
        try (Network net = MethodFixture.backbone(2); Method method = Methods.create(small(name), net, 0)) {
            assertEquals(name, method.name());
            assertFalse(method.needsTargets());
            String first = method.trainable().keySet().iterator().next();
            float[] before = method.trainable().get(first).getArray().toFloatArray();
            AdamW optimiser = new AdamW(method.trainable(), 1e-3f, 0.01f);
            optimiser.fixLearningRate(method.fixedLearningRate());
            float loss = DATA.step(method, optimiser, 1, 0.0);
            assertTrue(Float.isFinite(loss), name + " loss " + loss);
            int arrays = managedArrays(net);
            for (int s = 2; s <= 8; s++) {
                loss = DATA.step(method, optimiser, s, s / 10.0);
                assertTrue(Float.isFinite(loss), name + " loss " + loss + " at step " + s);
            }
            assertEquals(arrays, managedArrays(net), name + " leaves arrays behind");
            assertFalse(Arrays.equals(before, method.trainable().get(first).getArray().toFloatArray()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"moco", "simsiam", "dino", "swav", "dcl"})
    void everyMethodIsAValidHandOffAfterRela(String name) {
        MethodSpec spec = new MethodSpec("rela", small(name).ssl(), 0.5);
        try (Network net = MethodFixture.backbone(3);
             Method method = Methods.create(spec, net, MethodFixture.TARGET_DIM)) {
            assertEquals("rela>" + name, method.name());
            AdamW optimiser = new AdamW(method.trainable(), 1e-3f, 0.01f);
            boolean multiCrop = method.multiCrop().any();
            assertEquals(name.equals("dino") || name.equals("swav"), multiCrop);
            DATA.step(method, optimiser, 1, 0.2);
            assertEquals("rela", method.phase());
            assertFalse(method.usesSmallViews(), "ReLA's phase reads no small views");
            DATA.step(method, optimiser, 2, 0.6);
            assertEquals(name, method.phase());
            assertEquals(multiCrop, method.usesSmallViews());
            assertTrue(Float.isFinite(DATA.step(method, optimiser, 3, 0.7)));
        }
    }

    @Test
    void mocoEnqueuesBothViewsKeysAndWrapsAround() {
        try (Network net = MethodFixture.backbone(4);
             MocoMethod moco = (MocoMethod) Methods.create(small("moco"), net, 0);
             NDManager m = net.manager().newSubManager()) {
            NDArray queue = moco.state().get("queue");
            assertEquals(24, queue.getShape().get(0));
            float[] keys = moco.keysOf(NDArrays.concat(new NDList(m.create(DATA.view1, MethodFixture.IMAGES),
                    m.create(DATA.view2, MethodFixture.IMAGES)))).toFloatArray();
            AdamW optimiser = new AdamW(moco.trainable(), 1e-3f, 0f);
            DATA.step(moco, optimiser, 1, 0);
            assertEquals(16.0, moco.scalars().get(MocoMethod.QUEUE_POSITION));
            float[] stored = queue.get(new NDIndex("0:16")).toFloatArray();
            assertArrayEquals(keys, stored, 1e-5f, "the step's 2N keys, in order");
            DATA.step(moco, optimiser, 2, 0);
            assertEquals(8.0, moco.scalars().get(MocoMethod.QUEUE_POSITION), "16 more keys wrap around a queue of 24");
            for (int row = 0; row < 24; row++) {
                float norm = queue.get(row).norm().getFloat();
                assertEquals(1f, norm, 1e-4f, "queue row " + row);
            }
        }
    }

    @Test
    void dinoSchedulesHitTheirDocumentedValues() {
        try (Network net = MethodFixture.backbone(5);
             DinoMethod dino = (DinoMethod) Methods.create(MethodSpec.of("dino", null, null), net, 0)) {
            assertEquals(0.04, dino.teacherTemperatureAt(0), 1e-12);
            assertEquals(0.055, dino.teacherTemperatureAt(0.15), 1e-12);
            assertEquals(0.07, dino.teacherTemperatureAt(0.3), 1e-12);
            assertEquals(0.07, dino.teacherTemperatureAt(1), 1e-12);
            assertEquals(0.996, dino.momentumAt(0), 1e-12);
            assertEquals(0.998, dino.momentumAt(0.5), 1e-12);
            assertEquals(1.0, dino.momentumAt(1), 1e-12);
        }
    }

    @Test
    void dinoClipsEveryGradientAndKeepsTheLastLayerFrozenAtFirst() {
        MethodSpec spec = small("dino").with(new DinoConfig(64, 0, 32, 0.1, 0.07, 0.04, 0.3, 0.996, 0.9, 0.5, 1e-3, 2));
        try (Network net = MethodFixture.backbone(6); Method dino = Methods.create(spec, net, 0)) {
            Map<String, Parameter> all = dino.trainable();
            assertTrue(dino.active().size() < all.size(), "the last layer starts frozen");
            String last = all.keySet().stream().filter(k -> !dino.active().contains(k)).findFirst().orElseThrow();
            assertTrue(last.startsWith("head.head."), last);
            try (NDManager m = net.manager().newSubManager()) {
                try (GradientCollector gc = Engines.get().newGradientCollector()) {
                    gc.backward(dino.loss(DATA.batch(m, dino, 1, 0)));
                }
                dino.beforeStep(1, 0);
                for (Map.Entry<String, Parameter> e : all.entrySet()) {
                    try (NDArray g = e.getValue().getArray().getGradient()) {
                        assertTrue(g.norm().getFloat() <= 1e-3f * 1.0001f, e.getKey() + " gradient not clipped");
                    }
                }
            }
            MethodFixture.zeroGradients(dino);
            float[] lastAtStart = all.get(last).getArray().toFloatArray();
            AdamW optimiser = new AdamW(all, 1e-2f, 0f);
            DATA.step(dino, optimiser, 2, 0.2);
            assertArrayEquals(lastAtStart, all.get(last).getArray().toFloatArray(), "frozen during the first half");
            DATA.step(dino, optimiser, 3, 0.6);
            assertEquals(all.keySet(), dino.active());
            assertFalse(Arrays.equals(lastAtStart, all.get(last).getArray().toFloatArray()), "trains after it");
            try (NDArray moved = dino.state().get("center").abs().sum()) {
                assertTrue(moved.getFloat() > 0, "the centre moved from 0");
            }
        }
    }

    @Test
    void swavPrototypesStayUnitRowsAndFrozenForTheFirstSteps() {
        try (Network net = MethodFixture.backbone(7); Method swav = Methods.create(small("swav"), net, 0)) {
            Parameter prototypes = swav.trainable().entrySet().stream()
                    .filter(e -> e.getKey().startsWith("head.prototypes.")).findFirst().orElseThrow().getValue();
            assertEquals(2, prototypes.getArray().getShape().dimension());
            float[] start = prototypes.getArray().toFloatArray();
            assertUnitRows(prototypes.getArray());
            AdamW optimiser = new AdamW(swav.trainable(), 1e-2f, 0.1f);
            DATA.step(swav, optimiser, 1, 0.1);
            DATA.step(swav, optimiser, 2, 0.2);
            assertArrayEquals(start, prototypes.getArray().toFloatArray(), 1e-6f, "frozen for 2 steps");
            DATA.step(swav, optimiser, 3, 0.3);
            assertFalse(Arrays.equals(start, prototypes.getArray().toFloatArray()), "trains from step 3");
            assertUnitRows(prototypes.getArray());
        }
    }

    @Test
    void simsiamPredictorKeepsTheBaseLearningRate() {
        try (Network net = MethodFixture.backbone(8); Method simsiam = Methods.create(small("simsiam"), net, 0)) {
            AdamW optimiser = new AdamW(simsiam.trainable(), 1e-2f, 0f);
            optimiser.fixLearningRate(simsiam.fixedLearningRate());
            assertFalse(simsiam.fixedLearningRate().isEmpty());
            assertTrue(simsiam.fixedLearningRate().stream().allMatch(k -> k.startsWith("head.predictor.")));
            Map<String, float[]> before = snapshot(simsiam);
            optimiser.setLearningRate(0f);
            DATA.step(simsiam, optimiser, 1, 0.5);
            for (Map.Entry<String, Parameter> e : simsiam.trainable().entrySet()) {
                boolean moved = !Arrays.equals(before.get(e.getKey()), e.getValue().getArray().toFloatArray());
                assertEquals(simsiam.fixedLearningRate().contains(e.getKey()), moved, e.getKey());
            }
        }
    }

    @Test
    void smallViewsAre96Of224OfTheImageButNeverBelowWhatTheBackboneTakes() {
        try (Network net = Network.create("convnet-s", 1, 28, 28, 1, Device.cpu())) {
            MultiCrop crop = MultiCrops.forBackbone(8, net);
            assertEquals(8, crop.count());
            assertEquals(12, crop.size());
        }
        try (Network net = MethodFixture.backbone(1)) {
            MultiCrop crop = MultiCrops.forBackbone(2, net);
            assertEquals(Math.max(7, ai.coopt.nn.Architectures.minSide("convnet-s")), crop.size());
        }
    }

    private static void assertUnitRows(NDArray w) {
        float[] norms = w.norm(new int[] {1}).toFloatArray();
        for (float n : norms) {
            assertEquals(1f, n, 1e-4f);
        }
    }

    private static Map<String, float[]> snapshot(Method method) {
        Map<String, float[]> out = new LinkedHashMap<>();
        method.trainable().forEach((k, p) -> out.put(k, p.getArray().toFloatArray()));
        return out;
    }


    private static int managedArrays(Network net) {
        return ((BaseNDManager) net.manager()).getManagedArrays().size();
    }
}
