package ai.coopt.nn;

import ai.coopt.UserException;
import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each architecture's smallest input, the refusal of impossible ones, and the activation-memory estimate. */
class InputLimitsTest {

    @Test
    void everyArchitectureRunsAtItsSmallestInputAndRefusesOneLess() {
        for (String arch : Architectures.names()) {
            int min = Architectures.minSide(arch);
            assertTrue(min >= 1 && min <= 64, arch + " " + min);
            try (Network net = Network.create(arch, 3, min, min, 1, Device.cpu());
                 NDManager m = net.manager().newSubManager()) {
                long[] out = net.forward(m.randomNormal(new Shape(2, 3, min, min)), false).getShape().getShape();
                assertArrayEquals(new long[] {2, net.featureDim()}, out, arch);
            }
            if (min > 1) {
                UserException e = assertThrows(UserException.class,
                        () -> Network.create(arch, 3, min - 1, min - 1, 1, Device.cpu()));
                assertTrue(e.getMessage().contains("at least " + min + "x" + min), e.getMessage());
            }
        }
    }

    @Test
    void convnetSmallNeedsFourPixelsForItsTwoPoolings() {
        assertEquals(4, Architectures.minSide("convnet-s"));
    }

    @Test
    void declaredInputsBeyondTheMaximumAreRefusedWithoutAllocating() {
        UserException e = assertThrows(UserException.class, () -> Network.create("convnet-s", 1, 100000, 100000, 1, Device.cpu()));
        assertTrue(e.getMessage().contains("100000"), e.getMessage());
    }

    @Test
    void activationEstimateGrowsWithTheAreaAndCountsEveryLayer() {
        // convnet-s on 1x28x28: conv, bn, relu of 32x28x28; pool 32x14x14; conv, bn, relu 64x14x14; pool 64x7x7;
        // conv, bn, relu 128x7x7; global pool 128; flatten 128; linear 128; plus the input
        long expected = 3L * 32 * 28 * 28 + 32L * 14 * 14 + 3L * 64 * 14 * 14 + 64L * 7 * 7 + 3L * 128 * 7 * 7
                + 128 + 128 + 128 + 28 * 28;
        assertEquals(4 * expected, Architectures.activationBytes("convnet-s", 1, 28, 28));
        long at64 = Architectures.activationBytes("convnet-s", 1, 64, 64);
        long at128 = Architectures.activationBytes("convnet-s", 1, 128, 128);
        double ratio = at128 / (double) at64;
        assertTrue(ratio > 3.9 && ratio < 4.1, "ratio " + ratio);
    }

    @Test
    void anInputBeyondTheMemoryBudgetIsRefusedInOneLine() {
        System.setProperty("coopt.memory.budget", "64m");
        try {
            UserException e = assertThrows(UserException.class, () -> Network.create("convnet-s", 3, 1024, 1024, 1, Device.cpu()));
            assertTrue(e.getMessage().startsWith("one 3x1024x1024 input needs about "), e.getMessage());
            assertTrue(e.getMessage().contains("memory budget of 64 MiB"), e.getMessage());
        } finally {
            System.clearProperty("coopt.memory.budget");
        }
    }
}
