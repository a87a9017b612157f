package ai.coopt.train.methods;

import ai.coopt.UserException;
import ai.coopt.nn.Network;
import ai.coopt.train.AdamW;
import ai.coopt.train.Method;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MethodsTest {
    private static final MethodFixture DATA = new MethodFixture(11);

    @Test
    void relaLossIsZeroForTargetsAlongTheOutputAndTwoAgainstThem() {
        try (Network net = MethodFixture.backbone(1);
             Method method = Methods.create(MethodSpec.of("rela", null, null), net, MethodFixture.TARGET_DIM);
             NDManager m = net.manager().newSubManager()) {
            RelaMethod rela = assertInstanceOf(RelaMethod.class, method);
            NDArray v = DATA.batch(m).view1();
            NDArray out = rela.predict(NDArrays.concat(new NDList(v, v))).split(2).get(0);
            TrainingBatch same = new TrainingBatch(new int[MethodFixture.BATCH], v, v, out.mul(3), m);
            assertEquals(0f, rela.loss(same).getFloat(), 1e-5f);
            TrainingBatch opposite = new TrainingBatch(new int[MethodFixture.BATCH], v, v, out.neg(), m);
            assertEquals(2f, rela.loss(opposite).getFloat(), 1e-5f);
        }
    }

    @Test
    void byolLossLiesBetweenZeroAndFour() {
        try (Network net = MethodFixture.backbone(1);
             Method byol = Methods.create(MethodSpec.of("byol", null, null), net, 0)) {
            float loss = DATA.loss(byol);
            assertTrue(loss >= 0 && loss <= 4, "BYOL loss " + loss);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"rela", "byol", "simclr"})
    void aFewStepsOnAFixedBatchLowerTheLoss(String name) {
        try (Network net = MethodFixture.backbone(2);
             Method method = Methods.create(MethodSpec.of(name, null, null), net, MethodFixture.TARGET_DIM)) {
            AdamW optimiser = new AdamW(method.trainable(), 1e-3f, 0.01f);
            float first = DATA.step(method, optimiser, 1, 0.1);
            for (int s = 2; s <= 6; s++) {
                DATA.step(method, optimiser, s, 0.1 * s);
            }
            float last = DATA.loss(method);
            assertTrue(last < first, name + ": loss went from " + first + " to " + last);
        }
    }

    @Test
    void namesArePrefixedUniqueAndTheSameAcrossRuns() {
        List<String> names;
        try (Network net = MethodFixture.backbone(3);
             Method method = Methods.create(MethodSpec.of("rela", "byol", null), net, MethodFixture.TARGET_DIM)) {
            assertEquals("rela>byol", method.name());
            assertTrue(method.needsTargets());
            Map<String, Parameter> trainable = method.trainable();
            Map<String, NDArray> state = method.state();
            Set<String> all = new HashSet<>(trainable.keySet());
            state.keySet().forEach(k -> assertTrue(all.add(k), "duplicate name " + k));
            assertEquals(net.trainableParameters().size(),
                    trainable.keySet().stream().filter(k -> k.startsWith("backbone.")).count());
            for (String head : List.of("transfer", "projector", "predictor")) {
                assertTrue(trainable.keySet().stream().anyMatch(k -> k.startsWith("head." + head + ".")), head);
            }
            assertTrue(state.keySet().stream().anyMatch(k -> k.startsWith("head.projector.") && k.contains("running")));
            assertTrue(state.keySet().stream().anyMatch(k -> k.startsWith("target.backbone.") && k.contains("running")));
            assertTrue(state.keySet().stream().anyMatch(k -> k.startsWith("target.head.projector.")));
            for (String k : trainable.keySet()) {
                assertTrue(k.startsWith("backbone.") || k.startsWith("head."), k);
            }
            names = List.copyOf(all);
        }
        try (Network net = MethodFixture.backbone(4);
             Method method = Methods.create(MethodSpec.of("rela", "byol", null), net, MethodFixture.TARGET_DIM)) {
            Set<String> again = new HashSet<>(method.trainable().keySet());
            again.addAll(method.state().keySet());
            assertEquals(Set.copyOf(names), again);
        }
    }

    @Test
    void headsAreTheSameForTheSameSeed() {
        assertArrayEquals(headWeights(5), headWeights(5));
        assertFalse(Arrays.equals(headWeights(5), headWeights(6)));
    }

    private static float[] headWeights(long seed) {
        try (Network net = MethodFixture.backbone(seed);
             Method method = Methods.create(MethodSpec.of("rela", "simclr", null), net, MethodFixture.TARGET_DIM)) {
            float[] transfer = method.trainable().get("head.transfer.weight").getArray().toFloatArray();
            float[] projector = method.trainable().entrySet().stream()
                    .filter(e -> e.getKey().startsWith("head.projector.")).findFirst().orElseThrow()
                    .getValue().getArray().toFloatArray();
            float[] out = new float[transfer.length + projector.length];
            System.arraycopy(transfer, 0, out, 0, transfer.length);
            System.arraycopy(projector, 0, out, transfer.length, projector.length);
            return out;
        }
    }

    @Test
    void relaNeedsTargetsOfPositiveWidth() {
        try (Network net = MethodFixture.backbone(1)) {
            UserException e = assertThrows(UserException.class,
                    () -> Methods.create(MethodSpec.of("rela", "byol", null), net, 0));
            assertTrue(e.getMessage().contains("rela"), e.getMessage());
        }
    }

    @Test
    void constantHandOffSwitchesAtTheFractionAndScalarsRestoreThePhase() {
        Map<String, Double> saved;
        try (Network net = MethodFixture.backbone(1);
             Method method = Methods.create(MethodSpec.of("rela", "simclr", 0.5), net, MethodFixture.TARGET_DIM)) {
            assertEquals("rela", method.phase());
            method.afterStep(1, 0.4, 0.9f);
            assertEquals("rela", method.phase());
            assertEquals(0.0, method.scalars().get("phase"));
            float relaLoss = DATA.loss(method);
            method.afterStep(2, 0.5, 0.8f);
            assertEquals("simclr", method.phase());
            assertTrue(Math.abs(DATA.loss(method) - relaLoss) > 1e-3, "the loss did not change with the phase");
            saved = method.scalars();
            assertEquals(1.0, saved.get("phase"));
        }
        try (Network net = MethodFixture.backbone(1);
             Method method = Methods.create(MethodSpec.of("rela", "simclr", 0.5), net, MethodFixture.TARGET_DIM)) {
            method.restoreScalars(saved);
            assertEquals("simclr", method.phase());
            assertEquals(saved, method.scalars());
        }
    }

    @Test
    void adaptiveHandOffSwitchesOnlyOnceTheLossStopsFalling() {
        try (Network net = MethodFixture.backbone(1);
             Method method = Methods.create(MethodSpec.of("rela", "simclr", null), net, MethodFixture.TARGET_DIM)) {
            long step = 0;
            for (int t = 0; t < 4000; t++) {
                method.afterStep(++step, 0.99, (float) (1.0 - 1e-4 * t));
                assertEquals("rela", method.phase(), "switched at step " + step);
            }
            while (method.phase().equals("rela")) {
                method.afterStep(++step, 0.99, 0.6f);
                assertTrue(step < 7000, "no switch after " + step + " steps");
            }
            assertEquals(1.0, method.scalars().get("phase"));
        }
    }

    /**
     * With weight decay, the heads idle in a phase stay exactly as they are: the SSL heads during ReLA, the ReLA head
     * after the hand-off (decoupled weight decay used to shrink every parameter every step, and old momentum moved
     * them too).
     */
    @Test
    void idleHeadsStayUntouchedBeforeAndAfterTheHandOffEvenWithWeightDecay() {
        try (Network net = MethodFixture.backbone(1);
             Method method = Methods.create(MethodSpec.of("rela", "byol", 0.5), net, MethodFixture.TARGET_DIM)) {
            Parameter predictor = method.trainable().get("head.predictor.01Linear_weight");
            String transferName = method.trainable().keySet().stream().filter(k -> k.startsWith("head.transfer."))
                    .findFirst().orElseThrow();
            Parameter transfer = method.trainable().get(transferName);
            String backboneName = method.trainable().keySet().stream().filter(k -> k.startsWith("backbone."))
                    .findFirst().orElseThrow();
            float[] predictorAtStart = predictor.getArray().toFloatArray();
            float[] backboneAtStart = method.trainable().get(backboneName).getArray().toFloatArray();
            AdamW optimiser = new AdamW(method.trainable(), 1e-2f, 0.1f);
            DATA.step(method, optimiser, 1, 0.1);
            DATA.step(method, optimiser, 2, 0.2);
            assertEquals("rela", method.phase());
            try (NDArray g = predictor.getArray().getGradient()) {
                assertEquals(0f, g.abs().sum().getFloat(), "no gradient reaches a head outside the loss");
            }
            assertArrayEquals(predictorAtStart, predictor.getArray().toFloatArray(), "BYOL's predictor during ReLA");
            assertFalse(java.util.Arrays.equals(backboneAtStart,
                    method.trainable().get(backboneName).getArray().toFloatArray()), "the backbone trains");
            DATA.step(method, optimiser, 3, 0.6);
            assertEquals("byol", method.phase(), "handed off after step 3");
            float[] transferAtHandOff = transfer.getArray().toFloatArray();
            DATA.step(method, optimiser, 4, 0.7);
            DATA.step(method, optimiser, 5, 0.8);
            assertArrayEquals(transferAtHandOff, transfer.getArray().toFloatArray(), "ReLA's head after the hand-off");
            assertFalse(java.util.Arrays.equals(predictorAtStart, predictor.getArray().toFloatArray()),
                    "BYOL's predictor trains once BYOL does");
        }
    }

    @Test
    void stepsLeaveNoArraysBehindInTheBackbonesManager() {
        try (Network net = MethodFixture.backbone(1);
             Method method = Methods.create(MethodSpec.of("rela", "byol", null), net, MethodFixture.TARGET_DIM)) {
            AdamW optimiser = new AdamW(method.trainable(), 1e-3f, 0.01f);
            DATA.step(method, optimiser, 1, 0);
            int before = managedArrays(net);
            for (int s = 2; s <= 11; s++) {
                DATA.step(method, optimiser, s, 0);
            }
            assertEquals(before, managedArrays(net));
        }
    }

    private static int managedArrays(Network net) {
        return ((BaseNDManager) net.manager()).getManagedArrays().size();
    }
}
