package ai.coopt.data;

import ai.coopt.Setting;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Images as unsigned bytes, each C×H×W, read by index, with optional integer labels: what every reader produces
 * and what batching, augmentation and priors consume. Where the bytes live is a {@link Pixels} store: an array
 * in memory, or files mapped from disk, so a set can be far larger than the heap. {@link #subset} is a view that
 * copies no pixels.
 */
public final class ImageSet {
    /** Where the images' bytes live: image {@code i} is {@code imageSize} consecutive bytes, C×H×W. */
    public interface Pixels {
        /** Copies image {@code image} into {@code dst} at {@code offset}. Safe to call from several threads. */
        void read(long image, byte[] dst, int offset, int imageSize);
    }

    /** Images in one array, N×C×H×W. */
    record ArrayPixels(byte[] bytes) implements Pixels {
        @Override
        public void read(long image, byte[] dst, int offset, int imageSize) {
            System.arraycopy(bytes, Math.toIntExact(image * imageSize), dst, offset, imageSize);
        }
    }

    private final String source;
    private final Pixels pixels;
    private final int[] index;
    private final int count;
    private final int channels;
    private final int height;
    private final int width;
    private final int[] labels;
    private final int skipped;
    private final String knownFingerprint;
    /** Each image's index in the source split, or null when position i is index i. */
    private final int[] sourceIds;
    /** How {@code --limit} drew this set from its split, or null when it is the whole split (or a view of one). */
    private final Subset drawn;

    /**
     * Images held in one array.
     *
     * @param source human-readable origin (dataset spec and split), recorded in provenance
     * @param labels one label per image, or {@code null} for unlabeled data
     */
    public ImageSet(String source, byte[] pixels, int count, int channels, int height, int width, int[] labels) {
        this(source, new ArrayPixels(pixels), null, count, channels, height, width, labels, 0, null, null, null);
        if ((long) count * channels * height * width != pixels.length) {
            throw new IllegalArgumentException("pixel buffer has " + pixels.length + " bytes, shape needs "
                    + ((long) count * channels * height * width));
        }
    }

    /** Images in a store of at least {@code count} images (files mapped from disk, for example). */
    public ImageSet(String source, Pixels pixels, int count, int channels, int height, int width, int[] labels) {
        this(source, pixels, null, count, channels, height, width, labels, 0, null, null, null);
    }

    private ImageSet(String source, Pixels pixels, int[] index, int count, int channels, int height, int width,
                     int[] labels, int skipped, String knownFingerprint, int[] sourceIds, Subset drawn) {
        if (count < 0 || channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("bad image set shape " + count + "x" + channels + "x" + height + "x" + width);
        }
        if ((long) channels * height * width > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("one image of " + channels + "x" + height + "x" + width + " is too large");
        }
        if (labels != null && labels.length != count) {
            throw new IllegalArgumentException(labels.length + " labels for " + count + " images");
        }
        if (sourceIds != null && sourceIds.length != count) {
            throw new IllegalArgumentException(sourceIds.length + " source ids for " + count + " images");
        }
        this.source = source;
        this.pixels = pixels;
        this.index = index;
        this.count = count;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.labels = labels;
        this.skipped = skipped;
        this.knownFingerprint = knownFingerprint;
        this.sourceIds = sourceIds;
        this.drawn = drawn;
    }

    /** The same images, recording that {@code n} unreadable files were skipped while reading them. */
    public ImageSet withSkipped(int n) {
        return new ImageSet(source, pixels, index, count, channels, height, width, labels, n, knownFingerprint, sourceIds, drawn);
    }

    /**
     * The same images with their {@link #fingerprint()} already known (a pack records it, and its shards' checksums
     * were verified), so that it is not computed again by reading every image.
     */
    public ImageSet withFingerprint(String fingerprint) {
        return new ImageSet(source, pixels, index, count, channels, height, width, labels, skipped, fingerprint, sourceIds,
                drawn);
    }

    /**
     * The same images, recording each one's index in the source split (a reader that decoded only some of the
     * split's files, or skipped some): {@code ids} ascending, one per image.
     */
    public ImageSet withSourceIds(int[] ids) {
        for (int i = 1; i < ids.length; i++) {
            if (ids[i] <= ids[i - 1]) {
                throw new IllegalArgumentException("source ids must increase: " + ids[i - 1] + " then " + ids[i]);
            }
        }
        return new ImageSet(source, pixels, index, count, channels, height, width, labels, skipped, knownFingerprint,
                ids.clone(), drawn);
    }

    /**
     * The seeded subset {@code --limit limit} means (see {@link Subset}): this set itself when {@code limit} is 0 or
     * not below {@link #count()}, else a view of the drawn images in split order, recording the draw (from a set
     * that was itself drawn, with the whole split's size and the chosen images' ids in it).
     */
    public ImageSet draw(int limit, long seed) {
        Subset.Drawn d = Subset.draw(count, labels, limit, seed);
        if (d == null) {
            return this;
        }
        ImageSet chosen = subset(d.indices());
        if (drawn == null) {
            return chosen.withDrawn(d.subset());
        }
        // a draw from a set that was itself drawn (a pack of a --limit subset): the record keeps the whole split's
        // size and identifies the chosen images by their ids in that split
        int[] ids = new int[chosen.count];
        Arrays.setAll(ids, i -> (int) chosen.sourceId(i));
        Subset s = d.subset();
        return chosen.withDrawn(new Subset(s.limit(), s.seed(), drawn.of(), s.stratified(), Subset.sha256(ids)));
    }

    /** How {@code --limit} drew this set from its split, or null when it holds the whole split. */
    public Subset drawn() {
        return drawn;
    }

    /** The same images recording the draw that chose them (a reader that drew before decoding). */
    public ImageSet withDrawn(Subset d) {
        return new ImageSet(source, pixels, index, count, channels, height, width, labels, skipped, knownFingerprint,
                sourceIds, d);
    }

    /** Image {@code i}'s index in the source split: the id targets, shards and packs record for it. */
    public long sourceId(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("image " + i + " of " + count);
        }
        return sourceIds == null ? i : sourceIds[i];
    }

    /** {@link #sourceId} of each position. */
    public long[] sourceIds(int[] positions) {
        long[] out = new long[positions.length];
        for (int k = 0; k < positions.length; k++) {
            out[k] = sourceId(positions[k]);
        }
        return out;
    }

    /**
     * The positions in this set of the samples with source ids {@code ids}: a set as a reader gives it (whole, drawn by
     * {@code --limit}, a pack), whose ids increase.
     *
     * @throws IllegalArgumentException naming the first id this set does not hold
     * @throws IllegalStateException for a view in another order (a {@link #subset} of shuffled indices)
     */
    public int[] positionsOf(long[] ids) {
        if (sourceIds != null) {
            for (int i = 1; i < sourceIds.length; i++) {
                if (sourceIds[i] <= sourceIds[i - 1]) {
                    throw new IllegalStateException("positionsOf needs a set in split order");
                }
            }
        }
        int[] out = new int[ids.length];
        for (int k = 0; k < ids.length; k++) {
            long id = ids[k];
            int at;
            if (id < 0 || id > Integer.MAX_VALUE) {
                at = -1;
            } else if (sourceIds == null) {
                at = id < count ? (int) id : -1;
            } else {
                at = Arrays.binarySearch(sourceIds, (int) id);
            }
            if (at < 0) {
                throw new IllegalArgumentException("sample id " + id + " is not among the " + count + " images of "
                        + source + (drawn == null ? "" : " (limit " + drawn.describe(Setting.WORDS) + ")"));
            }
            out[k] = at;
        }
        return out;
    }

    /** How many unreadable files the reader skipped (see {@code --skip-bad-images}); 0 for most readers. */
    public int skipped() {
        return skipped;
    }

    public String source() { return source; }
    public int count() { return count; }
    public int channels() { return channels; }
    public int height() { return height; }
    public int width() { return width; }
    /** Bytes per image: channels × height × width. */
    public int imageSize() { return channels * height * width; }
    public boolean hasLabels() { return labels != null; }
    /** The labels (do not modify), or {@code null} when unlabeled. */
    public int[] labels() { return labels; }

    /** Copies image {@code i} (C×H×W bytes) into {@code dst} at {@code offset}. Safe from several threads. */
    public void readImage(int i, byte[] dst, int offset) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("image " + i + " of " + count);
        }
        pixels.read(index == null ? i : index[i], dst, offset, imageSize());
    }

    /** Image {@code i} as a new array of C×H×W bytes. */
    public byte[] image(int i) {
        byte[] out = new byte[imageSize()];
        readImage(i, out, 0);
        return out;
    }

    /** All images in one new N×C×H×W array: for small sets (tests, reports), never for a whole dataset. */
    public byte[] copyPixels() {
        int size = imageSize();
        byte[] out = new byte[Math.toIntExact((long) count * size)];
        for (int i = 0; i < count; i++) {
            readImage(i, out, i * size);
        }
        return out;
    }

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

    /** The images at {@code indices}, in that order: a view of the same pixels (the labels are copied). */
    public ImageSet subset(int[] indices) {
        int[] composed = new int[indices.length];
        // a view of a whole split: its ids are the indices into it, the same values as composed (shared, never changed)
        int[] ids = index == null && sourceIds == null ? composed : new int[indices.length];
        int[] outLabels = labels == null ? null : new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= count) {
                throw new IndexOutOfBoundsException("image " + indices[i] + " of " + count);
            }
            composed[i] = index == null ? indices[i] : index[indices[i]];
            ids[i] = sourceIds == null ? indices[i] : sourceIds[indices[i]];
            if (outLabels != null) {
                outLabels[i] = labels[indices[i]];
            }
        }
        return new ImageSet(source, pixels, composed, indices.length, channels, height, width, outLabels, skipped, null,
                ids, null);
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

    /** SHA-256 over the shape, the pixels and the labels, read image by image: identifies the exact samples. */
    public String fingerprint() {
        if (knownFingerprint != null) {
            return knownFingerprint;
        }
        Fingerprint f = new Fingerprint(count, channels, height, width);
        int size = imageSize();
        int perChunk = Math.max(1, (1 << 20) / size);
        byte[] chunk = new byte[perChunk * size];
        for (int start = 0; start < count; start += perChunk) {
            int n = Math.min(perChunk, count - start);
            for (int k = 0; k < n; k++) {
                readImage(start + k, chunk, k * size);
            }
            f.images(chunk, 0, n * size);
        }
        return f.finish(labels);
    }

    /**
     * The {@link #fingerprint()} computed incrementally, for a writer that streams a set's images in order (so that
     * what it writes carries the same fingerprint as the set it read).
     */
    public static final class Fingerprint {
        private final MessageDigest md;

        public Fingerprint(int count, int channels, int height, int width) {
            try {
                md = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            md.update(ByteBuffer.allocate(16).putInt(count).putInt(channels).putInt(height).putInt(width).array());
        }

        /** The next images' bytes, in order. */
        public void images(byte[] bytes, int offset, int length) {
            md.update(bytes, offset, length);
        }

        /** The fingerprint, given the labels (null when unlabeled). */
        public String finish(int[] labels) {
            if (labels != null) {
                ByteBuffer b = ByteBuffer.allocate(4 * labels.length);
                for (int l : labels) {
                    b.putInt(l);
                }
                md.update(b.array());
            }
            return HexFormat.of().formatHex(md.digest());
        }
    }
}
