package ai.coopt.data;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Images held in memory as unsigned bytes in N×C×H×W order, with optional integer labels.
 * This is what every reader produces and what batching and augmentation consume.
 */
public final class ImageSet {
    private final String source;
    private final byte[] pixels;
    private final int count;
    private final int channels;
    private final int height;
    private final int width;
    private final int[] labels;
    private final int skipped;

    /**
     * @param source human-readable origin (dataset spec and split), recorded in provenance
     * @param labels one label per image, or {@code null} for unlabeled data
     */
    public ImageSet(String source, byte[] pixels, int count, int channels, int height, int width, int[] labels) {
        this(source, pixels, count, channels, height, width, labels, 0);
    }

    private ImageSet(String source, byte[] pixels, int count, int channels, int height, int width, int[] labels,
                     int skipped) {
        if (count < 0 || channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("bad image set shape " + count + "x" + channels + "x" + height + "x" + width);
        }
        if ((long) count * channels * height * width != pixels.length) {
            throw new IllegalArgumentException("pixel buffer has " + pixels.length + " bytes, shape needs "
                    + ((long) count * channels * height * width));
        }
        if (labels != null && labels.length != count) {
            throw new IllegalArgumentException(labels.length + " labels for " + count + " images");
        }
        this.source = source;
        this.pixels = pixels;
        this.count = count;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.labels = labels;
        this.skipped = skipped;
    }

    /** The same images, recording that {@code n} unreadable files were skipped while reading them. */
    public ImageSet withSkipped(int n) {
        return new ImageSet(source, pixels, count, channels, height, width, labels, n);
    }

    /** How many unreadable files the reader skipped (see {@code --skip-bad-images}); 0 for most readers. */
    public int skipped() {
        return skipped;
    }

    public String source() { return source; }
    /** The backing array, not a copy: callers must not modify it. */
    public byte[] pixels() { return pixels; }
    public int count() { return count; }
    public int channels() { return channels; }
    public int height() { return height; }
    public int width() { return width; }
    /** Bytes per image: channels × height × width. */
    public int imageSize() { return channels * height * width; }
    public boolean hasLabels() { return labels != null; }
    /** The backing array, or {@code null} when unlabeled. */
    public int[] labels() { return labels; }

    /** The number of distinct classes (max label + 1), or 0 when unlabeled. */
    public int numClasses() {
        if (labels == null) {
            return 0;
        }
        int max = -1;
        for (int l : labels) {
            max = Math.max(max, l);
        }
        return max + 1;
    }

    /** A copy holding the images at {@code indices}, in that order. */
    public ImageSet subset(int[] indices) {
        int size = imageSize();
        byte[] out = new byte[indices.length * size];
        int[] outLabels = labels == null ? null : new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, indices[i] * size, out, i * size, size);
            if (outLabels != null) {
                outLabels[i] = labels[indices[i]];
            }
        }
        return new ImageSet(source, out, indices.length, channels, height, width, outLabels, skipped);
    }

    /** The first {@code n} images (all of them when n ≥ count). */
    public ImageSet limit(int n) {
        if (n >= count) {
            return this;
        }
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return subset(idx);
    }

    /** SHA-256 over the shape, the pixels and the labels: identifies the exact samples. */
    public String fingerprint() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(ByteBuffer.allocate(16).putInt(count).putInt(channels).putInt(height).putInt(width).array());
            md.update(pixels);
            if (labels != null) {
                ByteBuffer b = ByteBuffer.allocate(4 * labels.length);
                for (int l : labels) {
                    b.putInt(l);
                }
                md.update(b.array());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
