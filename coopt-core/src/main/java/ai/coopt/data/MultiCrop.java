package ai.coopt.data;

import ai.coopt.UserException;

/**
 * Multi-crop (Caron et al. 2020, SwAV; used by DINO): besides the two full-size views, {@code count} small views of
 * {@code size × size} pixels, each a random crop of {@code scaleMin..scaleMax} of the image's area (the global views'
 * colour augmentation, flip and grayscale apply to them too). The small views are cheap (a 12-pixel crop of a
 * 28-pixel image costs about a fifth of a full view) and teach local-to-global correspondence.
 *
 * @param count small views per image; 0 for none
 * @param size their side in pixels
 * @param scaleMin smallest crop area, as a share of the image
 * @param scaleMax largest crop area, as a share of the image
 */
public record MultiCrop(int count, int size, double scaleMin, double scaleMax) {
    /** No small views. */
    public static final MultiCrop NONE = new MultiCrop(0, 0, 0.05, 0.4);

    public MultiCrop {
        if (count < 0 || count > 64) {
            throw new UserException("the number of local crops must be in 0..64, not " + count);
        }
        if (count > 0 && size < 1) {
            throw new UserException("local crops need a positive size, not " + size);
        }
        if (!(scaleMin > 0 && scaleMin <= scaleMax && scaleMax <= 1)) {
            throw new UserException("the local crop scale must satisfy 0 < min ≤ max ≤ 1, not " + scaleMin + ".." + scaleMax);
        }
    }

    /**
     * {@code count} small views whose side is {@code ratio} of the image's shorter side (DINO and SwAV use 96 of 224,
     * 0.43), at least {@code minSide} (the smallest input the backbone takes).
     */
    public static MultiCrop scaled(int count, int imageSide, double ratio, int minSide, double scaleMin, double scaleMax) {
        return new MultiCrop(count, count == 0 ? 0 : Math.min(imageSide, Math.max(minSide, (int) Math.round(imageSide * ratio))),
                scaleMin, scaleMax);
    }

    /** Whether there are small views. */
    public boolean any() {
        return count > 0;
    }
}
