package ai.coopt.data;

import java.util.Random;

/** Tiny random image sets for the data tests. */
final class SyntheticImages {
    private SyntheticImages() {
    }

    /** {@code count} random images of the given shape, labelled i mod 10. */
    static ImageSet random(int count, int channels, int height, int width, long seed) {
        byte[] pixels = new byte[count * channels * height * width];
        new Random(seed).nextBytes(pixels);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = i % 10;
        }
        return new ImageSet("synthetic", pixels, count, channels, height, width, labels);
    }
}
