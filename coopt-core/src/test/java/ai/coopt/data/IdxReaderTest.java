package ai.coopt.data;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class IdxReaderTest {
    @TempDir
    Path dir;

    /** Deterministic pixels for {@code n} images of h×w: image i, pixel p holds (7i + p) mod 256. */
    static byte[] pixels(int n, int h, int w) {
        byte[] out = new byte[n * h * w];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < h * w; p++) {
                out[i * h * w + p] = (byte) (7 * i + p);
            }
        }
        return out;
    }

    /** Labels i mod 10. */
    public static int[] labels(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i % 10;
        }
        return out;
    }

    static byte[] idxImages(int n, int h, int w, byte[] pixels) {
        return ByteBuffer.allocate(16 + pixels.length).putInt(IdxReader.IMAGES_MAGIC).putInt(n).putInt(h).putInt(w)
                .put(pixels).array();
    }

    static byte[] idxLabels(int[] labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length).putInt(IdxReader.LABELS_MAGIC).putInt(labels.length);
        for (int l : labels) {
            b.put((byte) l);
        }
        return b.array();
    }

    static byte[] gzip(byte[] data) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
                gz.write(data);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the four IDX files of a dataset of 6×5 images (nTrain and nTest of them), gzipped or raw. */
    public static void writeDataset(Path dir, int nTrain, int nTest, boolean gz) throws IOException {
        Files.createDirectories(dir);
        String suffix = gz ? ".gz" : "";
        write(dir.resolve("train-images-idx3-ubyte" + suffix), idxImages(nTrain, 6, 5, pixels(nTrain, 6, 5)), gz);
        write(dir.resolve("train-labels-idx1-ubyte" + suffix), idxLabels(labels(nTrain)), gz);
        write(dir.resolve("t10k-images-idx3-ubyte" + suffix), idxImages(nTest, 6, 5, pixels(nTest, 6, 5)), gz);
        write(dir.resolve("t10k-labels-idx1-ubyte" + suffix), idxLabels(labels(nTest)), gz);
    }

    private static void write(Path file, byte[] data, boolean gz) throws IOException {
        Files.write(file, gz ? gzip(data) : data);
    }

    private Path file(String name, byte[] data) throws IOException {
        return Files.write(dir.resolve(name), data);
    }

    @Test
    void readsRawImagesAndLabels() throws IOException {
        Path images = file("images", idxImages(5, 3, 4, pixels(5, 3, 4)));
        Path labels = file("labels", idxLabels(labels(5)));
        ImageSet set = IdxReader.read(images, labels, 0, "src");
        assertEquals(5, set.count());
        assertEquals(1, set.channels());
        assertEquals(3, set.height());
        assertEquals(4, set.width());
        assertEquals("src", set.source());
        assertArrayEquals(pixels(5, 3, 4), set.copyPixels());
        assertArrayEquals(labels(5), set.labels());
    }

    @Test
    void readsGzipByNameAndByMagic() throws IOException {
        byte[] images = gzip(idxImages(4, 2, 2, pixels(4, 2, 2)));
        byte[] labels = gzip(idxLabels(labels(4)));
        ImageSet named = IdxReader.read(file("i.gz", images), file("l.gz", labels), -1, "s");
        ImageSet unnamed = IdxReader.read(file("i-no-suffix", images), file("l-no-suffix", labels), -1, "s");
        assertArrayEquals(pixels(4, 2, 2), named.copyPixels());
        assertArrayEquals(labels(4), named.labels());
        assertArrayEquals(named.copyPixels(), unnamed.copyPixels());
        assertArrayEquals(named.labels(), unnamed.labels());
    }

    @Test
    void limitReadsOnlyTheFirstSamples() throws IOException {
        Path images = file("i.gz", gzip(idxImages(20, 3, 3, pixels(20, 3, 3))));
        Path labels = file("l.gz", gzip(idxLabels(labels(20))));
        ImageSet set = IdxReader.read(images, labels, 7, "s");
        assertEquals(7, set.count());
        assertArrayEquals(Arrays.copyOf(pixels(20, 3, 3), 7 * 9), set.copyPixels());
        assertArrayEquals(Arrays.copyOf(labels(20), 7), set.labels());
        assertEquals(20, IdxReader.read(images, labels, 1000, "s").count());
        assertArrayEquals(Arrays.copyOf(labels(20), 3), IdxReader.readLabels(labels, 3));
    }

    @Test
    void unlabeledWhenNoLabelFile() throws IOException {
        ImageSet set = IdxReader.read(file("i", idxImages(2, 2, 2, pixels(2, 2, 2))), null, 0, "s");
        assertFalse(set.hasLabels());
        assertNull(set.labels());
    }

    @Test
    void truncatedRawFileNamesFileAndSizes() throws IOException {
        byte[] whole = idxImages(60, 28, 28, pixels(60, 28, 28));
        Path images = file("train-images-idx3-ubyte", Arrays.copyOf(whole, 1234));
        UserException e = assertThrows(UserException.class, () -> IdxReader.read(images, null, 0, "s"));
        assertTrue(e.getMessage().startsWith(images + ": truncated: header says 60 images of 28x28"), e.getMessage());
        assertTrue(e.getMessage().contains("1234"), e.getMessage());
    }

    @Test
    void truncatedGzipDataIsAUserError() throws IOException {
        byte[] whole = idxImages(60, 28, 28, pixels(60, 28, 28));
        Path shortBody = file("short.gz", gzip(Arrays.copyOf(whole, 1234)));
        UserException e = assertThrows(UserException.class, () -> IdxReader.read(shortBody, null, 0, "s"));
        assertTrue(e.getMessage().contains("truncated: header says 60 images of 28x28"), e.getMessage());
        assertTrue(e.getMessage().contains("after 1234 bytes"), e.getMessage());

        byte[] gz = gzip(whole);
        Path cut = file("cut.gz", Arrays.copyOf(gz, gz.length / 2));
        e = assertThrows(UserException.class, () -> IdxReader.read(cut, null, 0, "s"));
        assertTrue(e.getMessage().startsWith(cut + ": truncated"), e.getMessage());

        Path header = file("header.gz", Arrays.copyOf(gz, 12));
        assertThrows(UserException.class, () -> IdxReader.read(header, null, 0, "s"));
    }

    @Test
    void truncatedLabelsAndEmptyFile() throws IOException {
        Path images = file("i", idxImages(5, 2, 2, pixels(5, 2, 2)));
        byte[] labels = idxLabels(labels(5));
        Path shortLabels = file("l", Arrays.copyOf(labels, labels.length - 2));
        UserException e = assertThrows(UserException.class, () -> IdxReader.read(images, shortLabels, 0, "s"));
        assertTrue(e.getMessage().contains("truncated: header says 5 labels"), e.getMessage());

        Path empty = file("empty", new byte[0]);
        e = assertThrows(UserException.class, () -> IdxReader.read(empty, null, 0, "s"));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void wrongMagicIsNamed() throws IOException {
        Path labels = file("labels", idxLabels(labels(5)));
        UserException e = assertThrows(UserException.class, () -> IdxReader.read(labels, null, 0, "s"));
        assertTrue(e.getMessage().startsWith(labels + ": not an IDX image file (magic 0x00000801"), e.getMessage());

        Path text = file("text.gz", gzip("hello, world, not idx".getBytes()));
        e = assertThrows(UserException.class, () -> IdxReader.read(text, null, 0, "s"));
        assertTrue(e.getMessage().contains("magic"), e.getMessage());
    }

    @Test
    void labelCountMismatch() throws IOException {
        Path images = file("i", idxImages(5, 2, 2, pixels(5, 2, 2)));
        Path labels = file("l", idxLabels(labels(4)));
        UserException e = assertThrows(UserException.class, () -> IdxReader.read(images, labels, 2, "s"));
        assertEquals(images + " holds 5 images but " + labels + " holds 4 labels", e.getMessage());
    }

    @Test
    void missingFile() {
        Path missing = dir.resolve("nope-idx3-ubyte");
        UserException e = assertThrows(UserException.class, () -> IdxReader.read(missing, null, 0, "s"));
        assertEquals(missing + ": no such file", e.getMessage());
    }

    @Test
    void findPrefersRawThenGzip() throws IOException {
        assertNull(IdxReader.find(dir, "a"));
        file("a.gz", new byte[1]);
        assertEquals(dir.resolve("a.gz"), IdxReader.find(dir, "a"));
        file("a", new byte[1]);
        assertEquals(dir.resolve("a"), IdxReader.find(dir, "a"));
    }

    @Test
    void aRawFileLargerThanTwoGibibytesIsReadFromDisk(@TempDir Path tmp) throws IOException {
        // 3,000 images of 1000x1000 (3 GB) in a sparse file: only the header and the last image are written
        int n = 3000;
        int side = 1000;
        Path images = tmp.resolve("big-images-idx3-ubyte");
        try (var channel = java.nio.channels.FileChannel.open(images, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.allocate(16).putInt(0x803).putInt(n).putInt(side).putInt(side).flip(), 0);
            byte[] last = new byte[side * side];
            java.util.Arrays.fill(last, (byte) 7);
            channel.write(java.nio.ByteBuffer.wrap(last), 16 + (long) (n - 1) * side * side);
        }
        ImageSet set = IdxReader.read(images, null, 0, "big");
        assertEquals(n, set.count());
        byte[] image = set.image(n - 1);
        assertEquals(7, image[0]);
        assertEquals(7, image[side * side - 1]);
        assertEquals(0, set.image(n - 2)[12345]);
    }
}
