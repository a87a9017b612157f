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

    /**
     * vit-tiny's attention holds 2 × 3 heads × T × T scores and weights per block (T tokens, the class token
     * included), which outgrow everything else as the image grows: the estimate counts them below the reference size
     * and extrapolates them with the square of the area above it, where a count by area alone would be far too low.
     */
    @Test
    void activationEstimateOfTheVisionTransformerCountsItsAttentionMaps() {
        long at32 = Architectures.activationBytes("vit-tiny", 3, 32, 32);
        long tokens32 = 1 + 8 * 8;
        long attention32 = 4L * 12 * 2 * 3 * tokens32 * tokens32;
        long perTokenFloor = 4L * 12 * 192 * tokens32 * 10;
        assertTrue(at32 >= attention32 + perTokenFloor, "estimate " + at32);

        long at64 = Architectures.activationBytes("vit-tiny", 3, 64, 64);
        long at128 = Architectures.activationBytes("vit-tiny", 3, 128, 128);
        long tokens128 = 1 + 32 * 32;
        long attention128 = 4L * 12 * 2 * 3 * tokens128 * tokens128;
        assertTrue(at128 >= attention128, "estimate " + at128 + " below the attention maps alone " + attention128);
        // by area alone the ratio would be 4; at 64 pixels (257 tokens) the attention maps are about a third of
        // the count, and they grow 16×
        double ratio = at128 / (double) at64;
        assertTrue(ratio > 6 && ratio < 16, "ratio " + ratio);
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
