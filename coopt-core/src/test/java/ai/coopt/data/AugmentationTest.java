package ai.coopt.data;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AugmentationTest {
    private static final ImageSet RGB = SyntheticImages.random(20, 3, 12, 12, 7);
    private static final ImageSet GRAY = SyntheticImages.random(20, 1, 9, 11, 8);
    private static final Normalization RGB_NORM = Normalization.forImages(RGB);
    private static final Normalization GRAY_NORM = Normalization.forImages(GRAY);
    /** The same statistics on every channel, so equal [0, 1] values stay equal after normalising. */
    private static final Normalization FLAT = Normalization.of(new float[] {0f, 0f, 0f}, new float[] {1f, 1f, 1f});

    private static float[] view(Augmentation aug, ImageSet set, Normalization norm, int index, long seed) {
        float[] out = new float[set.imageSize()];
        aug.augment(set, index, norm, new SplittableRandom(seed), out, 0);
        return out;
    }

    private static List<ViewBatch> epoch(ImageSet set, Normalization norm, Augmentation aug, int batchSize,
                                         int workers, long seed, int epoch) {
        List<ViewBatch> out = new ArrayList<>();
        try (BatchLoader loader = BatchLoader.builder(set, norm).order(BatchLoader.shuffledOrder(set.count(), seed, epoch))
                .batchSize(batchSize).augmentation(aug).views(2).seed(seed).epoch(epoch).workers(workers).build()) {
            loader.forEach(out::add);
        }
        return out;
    }

    private static float[] concat(List<ViewBatch> batches, boolean second) {
        int total = batches.stream().mapToInt(b -> b.view1().length).sum();
        float[] out = new float[total];
        int at = 0;
        for (ViewBatch b : batches) {
            float[] v = second ? b.view2() : b.view1();
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    @Test
    void withoutRandomnessTheAugmentationIsTheIdentity() {
        Augmentation none = new Augmentation(Augmentation.Params.none());
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(RGB_NORM.batch(RGB, new int[] {i}), view(none, RGB, RGB_NORM, i, i));
            assertArrayEquals(GRAY_NORM.batch(GRAY, new int[] {i}), view(none, GRAY, GRAY_NORM, i, i),
                    "identity also on non-square images");
        }
    }

    @Test
    void sameSeedEpochAndPositionGiveIdenticalViewsWhateverTheWorkersAndBatchSize() {
        Augmentation aug = Augmentation.defaults();
        List<ViewBatch> one = epoch(RGB, RGB_NORM, aug, 4, 1, 42, 3);
        List<ViewBatch> three = epoch(RGB, RGB_NORM, aug, 4, 3, 42, 3);
        assertEquals(one.size(), three.size());
        for (int b = 0; b < one.size(); b++) {
            assertArrayEquals(one.get(b).indices(), three.get(b).indices());
            assertArrayEquals(one.get(b).view1(), three.get(b).view1());
            assertArrayEquals(one.get(b).view2(), three.get(b).view2());
        }
        List<ViewBatch> otherBatching = epoch(RGB, RGB_NORM, aug, 7, 2, 42, 3);
        assertArrayEquals(concat(one, false), concat(otherBatching, false));
        assertArrayEquals(concat(one, true), concat(otherBatching, true));
    }

    @Test
    void differentSeedsOrEpochsGiveDifferentViews() {
        Augmentation aug = Augmentation.defaults();
        float[] base = view(aug, RGB, RGB_NORM, 0, 1);
        assertFalse(Arrays.equals(base, view(aug, RGB, RGB_NORM, 0, 2)));
        int[] identity = new int[RGB.count()];
        for (int i = 0; i < identity.length; i++) {
            identity[i] = i;
        }
        float[] epoch0;
        float[] epoch1;
        try (BatchLoader a = BatchLoader.builder(RGB, RGB_NORM).order(identity).batchSize(20).augmentation(aug).epoch(0).build();
             BatchLoader b = BatchLoader.builder(RGB, RGB_NORM).order(identity).batchSize(20).augmentation(aug).epoch(1).build()) {
            epoch0 = a.next().view1();
            epoch1 = b.next().view1();
        }
        assertFalse(Arrays.equals(epoch0, epoch1));
    }

    @Test
    void theTwoViewsOfAnImageDifferAndKeepShapeAndFiniteValues() {
        for (ViewBatch batch : epoch(RGB, RGB_NORM, Augmentation.defaults(), 6, 2, 5, 0)) {
            assertArrayEquals(new long[] {batch.size(), 3, 12, 12}, batch.shape());
            assertEquals(batch.size() * RGB.imageSize(), batch.view1().length);
            assertNotNull(batch.view2());
            int size = RGB.imageSize();
            for (int i = 0; i < batch.size(); i++) {
                float[] a = Arrays.copyOfRange(batch.view1(), i * size, (i + 1) * size);
                float[] b = Arrays.copyOfRange(batch.view2(), i * size, (i + 1) * size);
                assertFalse(Arrays.equals(a, b), "image " + batch.indices()[i]);
            }
            assertInNormalisedRange(batch.view1(), RGB_NORM, 12 * 12);
            assertInNormalisedRange(batch.view2(), RGB_NORM, 12 * 12);
        }
    }

    @Test
    void grayImagesAugmentWithinRange() {
        for (ViewBatch batch : epoch(GRAY, GRAY_NORM, Augmentation.defaults(), 8, 1, 9, 2)) {
            assertArrayEquals(new long[] {batch.size(), 1, 9, 11}, batch.shape());
            assertInNormalisedRange(batch.view1(), GRAY_NORM, 99);
            assertInNormalisedRange(batch.view2(), GRAY_NORM, 99);
        }
    }

    private static void assertInNormalisedRange(float[] values, Normalization norm, int plane) {
        float[] mean = norm.mean();
        float[] std = norm.std();
        int channels = mean.length;
        for (int i = 0; i < values.length; i++) {
            int c = (i / plane) % channels;
            float v = values[i];
            assertTrue(Float.isFinite(v));
            assertTrue(v >= (0 - mean[c]) / std[c] - 1e-4f && v <= (1 - mean[c]) / std[c] + 1e-4f, "value " + v);
        }
    }

    @Test
    void certainFlipMirrorsTheImage() {
        Augmentation flip = new Augmentation(Augmentation.Params.none().withFlip(1));
        float[] plain = GRAY_NORM.batch(GRAY, new int[] {3});
        float[] flipped = view(flip, GRAY, GRAY_NORM, 3, 0);
        for (int y = 0; y < 9; y++) {
            for (int x = 0; x < 11; x++) {
                assertEquals(plain[y * 11 + x], flipped[y * 11 + 10 - x]);
            }
        }
    }

    @Test
    void certainGrayscaleMakesChannelsEqual() {
        Augmentation gray = new Augmentation(Augmentation.Params.none().withGrayscale(1));
        float[] v = view(gray, RGB, FLAT, 2, 0);
        int plane = 144;
        for (int p = 0; p < plane; p++) {
            assertEquals(v[p], v[p + plane]);
            assertEquals(v[p], v[p + 2 * plane]);
        }
        assertArrayEquals(GRAY_NORM.batch(GRAY, new int[] {2}),
                view(new Augmentation(Augmentation.Params.none().withGrayscale(1)), GRAY, GRAY_NORM, 2, 0),
                "grayscale is a no-op on one channel");
    }

    /** Up to the grayscale weights summing to 0.9999, as in torchvision. */
    @Test
    void hueAndSaturationLeaveGrayPixelsUnchanged() {
        ImageSet grayRgb = grayAsRgb(GRAY.limit(1));
        Augmentation colourOnly = new Augmentation(Augmentation.Params.none().withJitter(1, 0, 0, 0.8, 0.5));
        for (long seed = 0; seed < 10; seed++) {
            assertArrayEquals(FLAT.batch(grayRgb, new int[] {0}), view(colourOnly, grayRgb, FLAT, 0, seed), 2e-4f);
        }
    }

    @Test
    void hueRotationKeepsEachPixelsBrightestAndDarkestValues() {
        Augmentation hueOnly = new Augmentation(Augmentation.Params.none().withJitter(1, 0, 0, 0, 0.5));
        float[] plain = FLAT.batch(RGB, new int[] {4});
        int plane = 144;
        boolean changed = false;
        for (long seed = 0; seed < 5; seed++) {
            float[] v = view(hueOnly, RGB, FLAT, 4, seed);
            changed |= !Arrays.equals(plain, v);
            for (int p = 0; p < plane; p++) {
                assertEquals(max3(plain, p, plane), max3(v, p, plane), 1e-5f);
                assertEquals(-max3(negate(plain), p, plane), -max3(negate(v), p, plane), 1e-5f);
            }
        }
        assertTrue(changed);
    }

    @Test
    void brightnessScalesEveryUnclampedPixelByOneFactor() {
        Augmentation brightOnly = new Augmentation(Augmentation.Params.none().withJitter(1, 0.5, 0, 0, 0));
        float[] plain = FLAT.batch(RGB, new int[] {1});
        float[] v = view(brightOnly, RGB, FLAT, 1, 3);
        double factor = Double.NaN;
        for (int i = 0; i < v.length; i++) {
            if (plain[i] > 0.05f && v[i] < 1f) {
                double f = v[i] / plain[i];
                if (Double.isNaN(factor)) {
                    factor = f;
                }
                assertEquals(factor, f, 1e-4);
            }
        }
        assertTrue(factor >= 0.5 && factor <= 1.5, "factor " + factor);
    }

    @Test
    void contrastOnOneChannelBlendsWithTheImageMean() {
        Augmentation contrastOnly = new Augmentation(Augmentation.Params.none().withJitter(1, 0, 0.8, 0, 0));
        Normalization flat = Normalization.of(new float[] {0f}, new float[] {1f});
        float[] plain = flat.batch(GRAY, new int[] {0});
        float[] v = view(contrastOnly, GRAY, flat, 0, 11);
        assertFalse(Arrays.equals(plain, v));
        double mean = 0;
        for (float x : plain) {
            mean += x;
        }
        mean /= plain.length;
        int i = -1;
        int j = -1;
        for (int k = 0; k < v.length; k++) {
            if (v[k] > 0 && v[k] < 1) {
                i = i < 0 || plain[k] < plain[i] ? k : i;
                j = j < 0 || plain[k] > plain[j] ? k : j;
            }
        }
        double f = (v[i] - v[j]) / (plain[i] - plain[j]);
        for (int k = 0; k < v.length; k++) {
            float expected = (float) Math.min(1, Math.max(0, f * plain[k] + (1 - f) * mean));
            assertEquals(expected, v[k], 1e-4f);
        }
    }

    @Test
    void paramsAreValidated() {
        Augmentation.Params d = Augmentation.Params.defaults();
        assertEquals(0.5, d.scaleMin());
        assertEquals(0.8, d.jitterProb());
        assertEquals(0.2, d.hue());
        assertThrows(IllegalArgumentException.class, () -> d.withScale(0.9, 0.5));
        assertThrows(IllegalArgumentException.class, () -> d.withScale(0, 1));
        assertThrows(IllegalArgumentException.class, () -> d.withFlip(1.5));
        assertThrows(IllegalArgumentException.class, () -> d.withJitter(0.8, -1, 0.8, 0.8, 0.2));
        assertThrows(IllegalArgumentException.class, () -> d.withJitter(0.8, 0.8, 0.8, 0.8, 0.6));
    }

    private static ImageSet grayAsRgb(ImageSet gray) {
        int plane = gray.height() * gray.width();
        byte[] out = new byte[3 * plane];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(gray.copyPixels(), 0, out, c * plane, plane);
        }
        return new ImageSet("gray-rgb", out, 1, 3, gray.height(), gray.width(), null);
    }

    private static float max3(float[] v, int p, int plane) {
        return Math.max(v[p], Math.max(v[p + plane], v[p + 2 * plane]));
    }

    private static float[] negate(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = -v[i];
        }
        return out;
    }
}
