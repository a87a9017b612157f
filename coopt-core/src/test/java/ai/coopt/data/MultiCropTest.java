package ai.coopt.data;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Multi-crop's small views: their shapes, their independence from the full-size views, and their values. */
class MultiCropTest {
    private static final ImageSet SET = SyntheticImages.random(10, 3, 28, 28, 31);
    private static final Normalization NORM = Normalization.forImages(SET);

    private static ViewBatch first(MultiCrop crop) {
        try (BatchLoader loader = BatchLoader.builder(SET, NORM).batchSize(4).augmentation(Augmentation.defaults())
                .views(2).multiCrop(crop).seed(5).build()) {
            return loader.next();
        }
    }

    @Test
    void smallViewsHaveTheirShapeAndLeaveTheFullSizeViewsAsTheyWere() {
        ViewBatch plain = first(MultiCrop.NONE);
        assertNull(plain.locals());
        ViewBatch crops = first(new MultiCrop(6, 12, 0.05, 0.4));
        assertArrayEquals(plain.view1(), crops.view1());
        assertArrayEquals(plain.view2(), crops.view2());
        assertEquals(6, crops.localCount());
        assertEquals(12, crops.localSize());
        assertArrayEquals(new long[] {24, 3, 12, 12}, crops.localShape());
        assertEquals(6 * 4 * 3 * 12 * 12, crops.locals().length);
        float[] firstView = Arrays.copyOfRange(crops.locals(), 0, 4 * 3 * 144);
        float[] secondView = Arrays.copyOfRange(crops.locals(), 4 * 3 * 144, 2 * 4 * 3 * 144);
        assertFalse(Arrays.equals(firstView, secondView), "each small view is its own crop");
        for (float v : crops.locals()) {
            assertFalse(Float.isNaN(v) || Float.isInfinite(v));
        }
    }

    @Test
    void aWholeImageCropResizedDownIsTheBilinearAverage() {
        Augmentation none = new Augmentation(Augmentation.Params.none());
        float[] out = new float[16];
        Normalization identity = Normalization.of(new float[] {0}, new float[] {1});
        byte[] image = new byte[64];
        Arrays.fill(image, (byte) 200);
        none.augment(image, 1, 8, 8, 4, 4, identity, new java.util.SplittableRandom(1), out, 0);
        for (float v : out) {
            assertEquals(200 / 255f, v, 1e-6f);
        }
    }

    @Test
    void badSettingsAreOneLineErrors() {
        assertThrows(UserException.class, () -> new MultiCrop(-1, 12, 0.05, 0.4));
        assertThrows(UserException.class, () -> new MultiCrop(2, 0, 0.05, 0.4));
        assertThrows(UserException.class, () -> new MultiCrop(2, 12, 0.5, 0.4));
        assertEquals(12, MultiCrop.scaled(8, 28, 96.0 / 224, 4, 0.05, 0.4).size());
        assertEquals(9, MultiCrop.scaled(8, 16, 96.0 / 224, 9, 0.05, 0.4).size(), "never below the backbone's minimum");
        assertEquals(0, MultiCrop.scaled(0, 28, 96.0 / 224, 4, 0.05, 0.4).size());
    }
}
