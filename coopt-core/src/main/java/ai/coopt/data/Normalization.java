package ai.coopt.data;

import ai.coopt.UserException;

/**
 * Per-channel normalisation of uint8 images: a pixel p of channel c becomes
 * {@code (p/255 - mean[c]) / std[c]}. Immutable and safe to share between threads.
 */
public final class Normalization {
    private final float[] mean;
    private final float[] std;
    private final float[] invStd;
    /** Per channel, the normalised value of each of the 256 byte values. */
    private final float[][] table;

    private Normalization(float[] mean, float[] std) {
        this.mean = mean.clone();
        this.std = std.clone();
        this.invStd = new float[std.length];
        this.table = new float[mean.length][256];
        for (int c = 0; c < mean.length; c++) {
            invStd[c] = 1f / std[c];
            for (int b = 0; b < 256; b++) {
                table[c][b] = (b / 255f - mean[c]) * invStd[c];
            }
        }
    }

    /**
     * Normalisation with the given statistics of pixel/255.
     *
     * @throws IllegalArgumentException when the arrays are empty, differ in length, or a std is not positive
     */
    public static Normalization of(float[] mean, float[] std) {
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("need one mean and one std per channel, got "
                    + mean.length + " means and " + std.length + " stds");
        }
        for (int c = 0; c < std.length; c++) {
            if (!(std[c] > 0) || !Float.isFinite(std[c]) || !Float.isFinite(mean[c])) {
                throw new IllegalArgumentException("channel " + c + ": mean " + mean[c] + ", std " + std[c]
                        + " (std must be finite and positive)");
            }
        }
        return new Normalization(mean, std);
    }

    /**
     * The per-channel mean and (population) standard deviation of pixel/255 over all images,
     * computed in one pass from byte histograms. A constant channel gets std 1, so it is only centred.
     *
     * @throws UserException when the set holds no images
     */
    public static Normalization forImages(ImageSet set) {
        if (set.count() == 0) {
            throw new UserException("cannot compute normalisation statistics: " + set.source() + " holds no images");
        }
        int channels = set.channels();
        int plane = set.height() * set.width();
        long[][] histogram = new long[channels][256];
        byte[] pixels = new byte[set.imageSize()];
        for (int i = 0; i < set.count(); i++) {
            set.readImage(i, pixels, 0);
            int at = 0;
            for (int c = 0; c < channels; c++) {
                long[] h = histogram[c];
                for (int end = at + plane; at < end; at++) {
                    h[pixels[at] & 0xFF]++;
                }
            }
        }
        double n = (double) set.count() * plane;
        float[] mean = new float[channels];
        float[] std = new float[channels];
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            double sumSquares = 0;
            for (int b = 0; b < 256; b++) {
                double v = b / 255.0;
                sum += v * histogram[c][b];
                sumSquares += v * v * histogram[c][b];
            }
            double m = sum / n;
            double variance = Math.max(0, sumSquares / n - m * m);
            mean[c] = (float) m;
            std[c] = variance > 1e-12 ? (float) Math.sqrt(variance) : 1f;
        }
        return new Normalization(mean, std);
    }

    /** The number of channels this normalisation expects. */
    public int channels() {
        return mean.length;
    }

    /** A copy of the per-channel means of pixel/255. */
    public float[] mean() {
        return mean.clone();
    }

    /** A copy of the per-channel standard deviations of pixel/255. */
    public float[] std() {
        return std.clone();
    }

    /**
     * Writes the images at {@code indices}, normalised, into {@code out} in N×C×H×W order.
     *
     * @param out at least {@code indices.length × set.imageSize()} floats
     */
    public void toFloats(ImageSet set, int[] indices, float[] out) {
        checkChannels(set);
        int size = set.imageSize();
        if (out.length < (long) indices.length * size) {
            throw new IllegalArgumentException("output holds " + out.length + " floats, "
                    + indices.length + " images need " + ((long) indices.length * size));
        }
        int plane = set.height() * set.width();
        byte[] pixels = new byte[size];
        int o = 0;
        for (int index : indices) {
            set.readImage(index, pixels, 0);
            int at = 0;
            for (int c = 0; c < mean.length; c++) {
                float[] t = table[c];
                for (int end = at + plane; at < end; at++) {
                    out[o++] = t[pixels[at] & 0xFF];
                }
            }
        }
    }

    /** The images at {@code indices}, normalised, as a new N×C×H×W array. */
    public float[] batch(ImageSet set, int[] indices) {
        float[] out = new float[indices.length * set.imageSize()];
        toFloats(set, indices, out);
        return out;
    }

    /**
     * Normalises in place one C×H×W image of values in [0, 1] starting at {@code offset},
     * with the same arithmetic as {@link #toFloats} so unmodified pixels give identical floats.
     */
    void normalizeInPlace(float[] image, int offset, int plane) {
        int at = offset;
        for (int c = 0; c < mean.length; c++) {
            float m = mean[c];
            float s = invStd[c];
            for (int end = at + plane; at < end; at++) {
                image[at] = (image[at] - m) * s;
            }
        }
    }

    void checkChannels(ImageSet set) {
        if (set.channels() != mean.length) {
            throw new IllegalArgumentException("normalisation is for " + mean.length + "-channel images, "
                    + set.source() + " has " + set.channels() + " channels");
        }
    }
}
