package ai.coopt.data;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class NormalizationTest {
    /** Two 2-channel 1×2 images: channel 0 holds 0, 255, 51, 102; channel 1 is constant 10. */
    private static ImageSet hand() {
        byte[] pixels = {0, (byte) 255, 10, 10, 51, 102, 10, 10};
        return new ImageSet("hand", pixels, 2, 2, 1, 2, null);
    }

    @Test
    void statisticsMatchHandComputation() {
        Normalization n = Normalization.forImages(hand());
        double[] v = {0, 1, 0.2, 0.4};
        double mean = (0 + 1 + 0.2 + 0.4) / 4;
        double var = 0;
        for (double x : v) {
            var += (x - mean) * (x - mean);
        }
        double std = Math.sqrt(var / 4);
        assertEquals(mean, n.mean()[0], 1e-6);
        assertEquals(std, n.std()[0], 1e-6);
        assertEquals(10 / 255.0, n.mean()[1], 1e-6);
        assertEquals(1f, n.std()[1], "a constant channel is only centred");
    }

    @Test
    void toFloatsWritesNormalisedPixelsInRequestedOrder() {
        Normalization n = Normalization.of(new float[] {0.5f, 0.25f}, new float[] {0.5f, 2f});
        float[] out = n.batch(hand(), new int[] {1, 0});
        float[] expected = {
            (0.2f - 0.5f) / 0.5f, (0.4f - 0.5f) / 0.5f, (10 / 255f - 0.25f) / 2f, (10 / 255f - 0.25f) / 2f,
            -1f, 1f, (10 / 255f - 0.25f) / 2f, (10 / 255f - 0.25f) / 2f};
        assertArrayEquals(expected, out, 1e-6f);
    }

    @Test
    void normalisedDatasetHasZeroMeanUnitStd() {
        ImageSet set = SyntheticImages.random(50, 3, 8, 8, 1);
        Normalization n = Normalization.forImages(set);
        int[] all = new int[set.count()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        float[] out = n.batch(set, all);
        int plane = 64;
        for (int c = 0; c < 3; c++) {
            double sum = 0;
            double sq = 0;
            for (int i = 0; i < set.count(); i++) {
                for (int p = 0; p < plane; p++) {
                    double x = out[(i * 3 + c) * plane + p];
                    sum += x;
                    sq += x * x;
                }
            }
            double count = set.count() * plane;
            assertEquals(0, sum / count, 1e-4);
            assertEquals(1, sq / count, 1e-4);
        }
    }

    @Test
    void rejectsBadStatistics() {
        assertThrows(IllegalArgumentException.class, () -> Normalization.of(new float[] {0.5f}, new float[] {1f, 1f}));
        assertThrows(IllegalArgumentException.class, () -> Normalization.of(new float[] {0.5f}, new float[] {0f}));
        assertThrows(IllegalArgumentException.class, () -> Normalization.of(new float[0], new float[0]));
    }

    @Test
    void rejectsWrongChannelCountAndEmptySet() {
        Normalization gray = Normalization.of(new float[] {0.5f}, new float[] {0.5f});
        assertThrows(IllegalArgumentException.class, () -> gray.batch(hand(), new int[] {0}));
        ImageSet empty = new ImageSet("empty", new byte[0], 0, 1, 2, 2, null);
        assertThrows(UserException.class, () -> Normalization.forImages(empty));
    }
}
