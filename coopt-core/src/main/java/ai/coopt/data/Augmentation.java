package ai.coopt.data;

import java.util.SplittableRandom;

/**
 * The image augmentation of ReLA's views, with torchvision's semantics: random resized crop
 * (bilinear, output size = input size), horizontal flip, colour jitter applied as a whole with
 * some probability and in a random order of its four parts, and random grayscale. Works on one
 * image at a time as C×H×W floats in [0, 1] and writes the normalised result.
 *
 * <p>Immutable and safe to share between threads; all randomness comes from the caller's
 * generator, so the same generator state gives the same view.
 */
public final class Augmentation {
    private static final float RED = 0.2989f;
    private static final float GREEN = 0.587f;
    private static final float BLUE = 0.114f;
    private static final int CROP_ATTEMPTS = 10;
    private static final float[] UNIT = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            UNIT[b] = b / 255f;
        }
    }

    /**
     * Augmentation parameters.
     *
     * @param scaleMin      smallest crop area as a fraction of the image; when it is 1 the crop is
     *                      always the whole image, whatever the aspect ratio range
     * @param scaleMax      largest crop area as a fraction of the image
     * @param ratioMin      smallest crop aspect ratio (width / height)
     * @param ratioMax      largest crop aspect ratio
     * @param flipProb      probability of a horizontal flip
     * @param jitterProb    probability of applying colour jitter
     * @param brightness    brightness factor drawn from [max(0, 1 - b), 1 + b]; 0 disables
     * @param contrast      contrast factor drawn from [max(0, 1 - c), 1 + c]; 0 disables
     * @param saturation    saturation factor drawn from [max(0, 1 - s), 1 + s]; 0 disables
     * @param hue           hue shift drawn from [-h, h], in turns, h ≤ 0.5; 0 disables
     * @param grayscaleProb probability of converting to grayscale
     */
    public record Params(double scaleMin, double scaleMax, double ratioMin, double ratioMax,
                         double flipProb, double jitterProb,
                         double brightness, double contrast, double saturation, double hue,
                         double grayscaleProb) {
        public Params {
            if (!(scaleMin > 0 && scaleMin <= scaleMax && scaleMax <= 1)) {
                throw new IllegalArgumentException("crop scale must satisfy 0 < min ≤ max ≤ 1, got "
                        + scaleMin + ".." + scaleMax);
            }
            if (!(ratioMin > 0 && ratioMin <= ratioMax && Double.isFinite(ratioMax))) {
                throw new IllegalArgumentException("crop aspect ratio must satisfy 0 < min ≤ max, got "
                        + ratioMin + ".." + ratioMax);
            }
            probability("flip", flipProb);
            probability("colour jitter", jitterProb);
            probability("grayscale", grayscaleProb);
            strength("brightness", brightness);
            strength("contrast", contrast);
            strength("saturation", saturation);
            if (!(hue >= 0 && hue <= 0.5)) {
                throw new IllegalArgumentException("hue must be in [0, 0.5], got " + hue);
            }
        }

        /** ReLA's defaults: crop scale 0.5–1, ratio 3/4–4/3, flip 0.5, jitter (0.8, 0.8, 0.8, 0.2) with p 0.8, grayscale 0.2. */
        public static Params defaults() {
            return new Params(0.5, 1.0, 3.0 / 4.0, 4.0 / 3.0, 0.5, 0.8, 0.8, 0.8, 0.8, 0.2, 0.2);
        }

        /** No randomness at all: the whole image, never flipped, jittered or grayed (the identity). */
        public static Params none() {
            return new Params(1.0, 1.0, 3.0 / 4.0, 4.0 / 3.0, 0, 0, 0.8, 0.8, 0.8, 0.2, 0);
        }

        /** These parameters with another crop scale range. */
        public Params withScale(double min, double max) {
            return new Params(min, max, ratioMin, ratioMax, flipProb, jitterProb,
                    brightness, contrast, saturation, hue, grayscaleProb);
        }

        /** These parameters with another flip probability. */
        public Params withFlip(double p) {
            return new Params(scaleMin, scaleMax, ratioMin, ratioMax, p, jitterProb,
                    brightness, contrast, saturation, hue, grayscaleProb);
        }

        /** These parameters with another colour jitter probability and strengths. */
        public Params withJitter(double p, double brightness, double contrast, double saturation, double hue) {
            return new Params(scaleMin, scaleMax, ratioMin, ratioMax, flipProb, p,
                    brightness, contrast, saturation, hue, grayscaleProb);
        }

        /** These parameters with another grayscale probability. */
        public Params withGrayscale(double p) {
            return new Params(scaleMin, scaleMax, ratioMin, ratioMax, flipProb, jitterProb,
                    brightness, contrast, saturation, hue, p);
        }

        private static void probability(String name, double p) {
            if (!(p >= 0 && p <= 1)) {
                throw new IllegalArgumentException(name + " probability must be in [0, 1], got " + p);
            }
        }

        private static void strength(String name, double v) {
            if (!(v >= 0 && Double.isFinite(v))) {
                throw new IllegalArgumentException(name + " must be finite and ≥ 0, got " + v);
            }
        }
    }

    private final Params params;

    public Augmentation(Params params) {
        this.params = params;
    }

    /** Augmentation with {@link Params#defaults()}. */
    public static Augmentation defaults() {
        return new Augmentation(Params.defaults());
    }

    public Params params() {
        return params;
    }

    /**
     * Writes one augmented, normalised view of image {@code index} of {@code set} into
     * {@code out[offset .. offset + set.imageSize())} in C×H×W order.
     *
     * @param rng the source of every random choice; consumed in a fixed order
     */
    public void augment(ImageSet set, int index, Normalization norm, SplittableRandom rng, float[] out, int offset) {
        augment(set.image(index), set.channels(), set.height(), set.width(), norm, rng, out, offset);
    }

    /**
     * Writes one augmented, normalised view of {@code image} (C×H×W bytes, read once by the caller for all its
     * views) into {@code out[offset .. offset + C×H×W)}.
     *
     * @param rng the source of every random choice; consumed in a fixed order
     */
    public void augment(byte[] image, int channels, int height, int width, Normalization norm, SplittableRandom rng,
                        float[] out, int offset) {
        augment(image, channels, height, width, height, width, norm, rng, out, offset);
    }

    /**
     * Writes one augmented, normalised view of {@code image} (C×H×W bytes) resized to {@code outHeight × outWidth}
     * (multi-crop's small views) into {@code out[offset .. offset + C×outHeight×outWidth)}.
     *
     * @param rng the source of every random choice; consumed in a fixed order
     */
    public void augment(byte[] image, int channels, int height, int width, int outHeight, int outWidth,
                        Normalization norm, SplittableRandom rng, float[] out, int offset) {
        int plane = outHeight * outWidth;
        cropResizeFlip(image, channels, height, width, outHeight, outWidth, rng, out, offset);
        if (rng.nextDouble() < params.jitterProb) {
            jitter(out, offset, channels, plane, rng);
        }
        if (rng.nextDouble() < params.grayscaleProb && channels == 3) {
            grayscale(out, offset, plane);
        }
        norm.normalizeInPlace(out, offset, plane);
    }

    /** Crops a random region, resizes it bilinearly to {@code outHeight × outWidth} and maybe flips it, into [0, 1] floats. */
    private void cropResizeFlip(byte[] pixels, int channels, int height, int width, int outHeight, int outWidth,
                                SplittableRandom rng, float[] out, int offset) {
        int[] box = cropBox(height, width, rng);
        int top = box[0];
        int left = box[1];
        int cropHeight = box[2];
        int cropWidth = box[3];
        boolean flip = rng.nextDouble() < params.flipProb;

        int[] col0 = new int[outWidth];
        int[] col1 = new int[outWidth];
        float[] colWeight = new float[outWidth];
        double scaleX = (double) cropWidth / outWidth;
        for (int x = 0; x < outWidth; x++) {
            double sx = Math.max(0, (x + 0.5) * scaleX - 0.5);
            int x0 = (int) sx;
            int target = flip ? outWidth - 1 - x : x;
            col0[target] = left + x0;
            col1[target] = left + Math.min(x0 + 1, cropWidth - 1);
            colWeight[target] = (float) (sx - x0);
        }
        double scaleY = (double) cropHeight / outHeight;
        int plane = height * width;
        int outPlane = outHeight * outWidth;
        for (int y = 0; y < outHeight; y++) {
            double sy = Math.max(0, (y + 0.5) * scaleY - 0.5);
            int y0 = (int) sy;
            int y1 = Math.min(y0 + 1, cropHeight - 1);
            float wy = (float) (sy - y0);
            float wy0 = 1f - wy;
            for (int c = 0; c < channels; c++) {
                int row0 = c * plane + (top + y0) * width;
                int row1 = c * plane + (top + y1) * width;
                int o = offset + c * outPlane + y * outWidth;
                for (int x = 0; x < outWidth; x++) {
                    float wx = colWeight[x];
                    float upper = (1f - wx) * UNIT[pixels[row0 + col0[x]] & 0xFF] + wx * UNIT[pixels[row0 + col1[x]] & 0xFF];
                    float lower = (1f - wx) * UNIT[pixels[row1 + col0[x]] & 0xFF] + wx * UNIT[pixels[row1 + col1[x]] & 0xFF];
                    out[o + x] = wy0 * upper + wy * lower;
                }
            }
        }
    }

    /** torchvision's RandomResizedCrop.get_params: {top, left, height, width}; the whole image at scale 1. */
    private int[] cropBox(int height, int width, SplittableRandom rng) {
        if (params.scaleMin >= 1) {
            return new int[] {0, 0, height, width};
        }
        double area = (double) height * width;
        double logRatioMin = Math.log(params.ratioMin);
        double logRatioMax = Math.log(params.ratioMax);
        for (int attempt = 0; attempt < CROP_ATTEMPTS; attempt++) {
            double targetArea = area * uniform(rng, params.scaleMin, params.scaleMax);
            double ratio = Math.exp(uniform(rng, logRatioMin, logRatioMax));
            int w = (int) Math.round(Math.sqrt(targetArea * ratio));
            int h = (int) Math.round(Math.sqrt(targetArea / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                return new int[] {rng.nextInt(height - h + 1), rng.nextInt(width - w + 1), h, w};
            }
        }
        double imageRatio = (double) width / height;
        int w;
        int h;
        if (imageRatio < params.ratioMin) {
            w = width;
            h = Math.min(height, (int) Math.round(w / params.ratioMin));
        } else if (imageRatio > params.ratioMax) {
            h = height;
            w = Math.min(width, (int) Math.round(h * params.ratioMax));
        } else {
            w = width;
            h = height;
        }
        return new int[] {(height - h) / 2, (width - w) / 2, h, w};
    }

    /** torchvision's ColorJitter: draw all factors, then apply the enabled parts in a random order. */
    private void jitter(float[] img, int offset, int channels, int plane, SplittableRandom rng) {
        int[] order = {0, 1, 2, 3};
        for (int i = order.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        float brightness = (float) factor(rng, params.brightness);
        float contrast = (float) factor(rng, params.contrast);
        float saturation = (float) factor(rng, params.saturation);
        float hue = params.hue > 0 ? (float) uniform(rng, -params.hue, params.hue) : 0f;
        boolean colour = channels == 3;
        for (int part : order) {
            switch (part) {
                case 0 -> {
                    if (params.brightness > 0) {
                        blend(img, offset, channels * plane, brightness, 0f);
                    }
                }
                case 1 -> {
                    if (params.contrast > 0) {
                        blend(img, offset, channels * plane, contrast, meanGray(img, offset, channels, plane));
                    }
                }
                case 2 -> {
                    if (params.saturation > 0 && colour) {
                        saturate(img, offset, plane, saturation);
                    }
                }
                default -> {
                    if (params.hue > 0 && colour) {
                        shiftHue(img, offset, plane, hue);
                    }
                }
            }
        }
    }

    /** A factor uniform in [max(0, 1 - strength), 1 + strength], or 1 when disabled. */
    private static double factor(SplittableRandom rng, double strength) {
        return strength > 0 ? uniform(rng, Math.max(0, 1 - strength), 1 + strength) : 1;
    }

    private static double uniform(SplittableRandom rng, double min, double max) {
        return min + (max - min) * rng.nextDouble();
    }

    /** x ← clamp(f·x + (1 - f)·other, 0, 1) over {@code length} values. */
    private static void blend(float[] img, int offset, int length, float f, float other) {
        float shift = (1f - f) * other;
        for (int i = offset, end = offset + length; i < end; i++) {
            img[i] = clamp(f * img[i] + shift);
        }
    }

    /** The mean over all pixels of the grayscale image (the image itself when it has one channel). */
    private static float meanGray(float[] img, int offset, int channels, int plane) {
        double sum = 0;
        if (channels == 3) {
            for (int i = offset, end = offset + plane; i < end; i++) {
                sum += RED * img[i] + GREEN * img[i + plane] + BLUE * img[i + 2 * plane];
            }
            return (float) (sum / plane);
        }
        for (int i = offset, end = offset + channels * plane; i < end; i++) {
            sum += img[i];
        }
        return (float) (sum / ((double) channels * plane));
    }

    private static void saturate(float[] img, int offset, int plane, float f) {
        float g = 1f - f;
        for (int i = offset, end = offset + plane; i < end; i++) {
            float r = img[i];
            float gr = img[i + plane];
            float b = img[i + 2 * plane];
            float gray = (RED * r + GREEN * gr + BLUE * b) * g;
            img[i] = clamp(f * r + gray);
            img[i + plane] = clamp(f * gr + gray);
            img[i + 2 * plane] = clamp(f * b + gray);
        }
    }

    private static void grayscale(float[] img, int offset, int plane) {
        for (int i = offset, end = offset + plane; i < end; i++) {
            float gray = RED * img[i] + GREEN * img[i + plane] + BLUE * img[i + 2 * plane];
            img[i] = gray;
            img[i + plane] = gray;
            img[i + 2 * plane] = gray;
        }
    }

    /**
     * Rotates the hue of every pixel by {@code shift} turns: RGB to HSV, shift, back to RGB.
     * Value (the largest channel) and chroma are kept; the way back uses the closed form
     * channel_n = V - C·clamp(min(k, 4 - k), 0, 1) with k = (n + 6H) mod 6, n = 5, 3, 1 for R, G, B.
     */
    private static void shiftHue(float[] img, int offset, int plane, float shift) {
        float shift6 = shift * 6f;
        for (int i = offset, end = offset + plane; i < end; i++) {
            float r = img[i];
            float g = img[i + plane];
            float b = img[i + 2 * plane];
            float max = max(r, max(g, b));
            float chroma = max - min(r, min(g, b));
            if (chroma == 0) {
                continue;
            }
            float inv = 1f / chroma;
            float h = max == r ? (g - b) * inv : (max == g ? 2f + (b - r) * inv : 4f + (r - g) * inv);
            h += shift6;
            h = h < 0f ? h + 6f : (h >= 6f ? h - 6f : h);
            img[i] = max - chroma * ramp(h + 5f);
            img[i + plane] = max - chroma * ramp(h + 3f);
            img[i + 2 * plane] = max - chroma * ramp(h + 1f);
        }
    }

    /** clamp(min(k, 4 - k), 0, 1) for k taken mod 6, with k in [0, 12). */
    private static float ramp(float k) {
        float m = k >= 6f ? k - 6f : k;
        return max(0f, min(1f, min(m, 4f - m)));
    }

    /** Clamps to [0, 1]; Math.min/max let the JIT vectorise the simple loops that use it. */
    private static float clamp(float v) {
        return Math.max(0f, Math.min(1f, v));
    }

    /**
     * Plain comparisons, for the hue loop that cannot be vectorised: there they are faster than
     * Math.min/max with their NaN and -0 handling, and values are never NaN.
     */
    private static float min(float a, float b) {
        return a < b ? a : b;
    }

    private static float max(float a, float b) {
        return a > b ? a : b;
    }
}
