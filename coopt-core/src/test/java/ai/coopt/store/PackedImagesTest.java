package ai.coopt.store;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.data.Subset;
import ai.coopt.util.ProgressListener;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PackedImagesTest {
    private static final ManifestProvenance.Created CREATED =
            new ManifestProvenance.Created(Instant.parse("2026-01-01T00:00:00Z"), "test", List.of("coopt", "data", "pack"), 0);

    @TempDir
    Path tmp;

    private static ImageSet images(int n, int channels, int side, boolean labelled) {
        Random random = new Random(n * 31L + channels);
        byte[] pixels = new byte[n * channels * side * side];
        random.nextBytes(pixels);
        int[] labels = null;
        if (labelled) {
            labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = random.nextInt(10);
            }
        }
        return new ImageSet("synthetic:train", pixels, n, channels, side, side, labels);
    }

    private Path pack(ImageSet images, int shardImages) {
        Path dir = tmp.resolve("pack");
        PackedImages.write(dir, images, "synthetic", "train", shardImages, CREATED, ProgressListener.NONE);
        return dir;
    }

    @Test
    void packThenOpenGivesTheSamePixelsLabelsAndFingerprint() {
        ImageSet source = images(23, 3, 5, true);
        Path dir = pack(source, 10);
        assertEquals(List.of("images-00001-of-00003.safetensors", "images-00002-of-00003.safetensors",
                "images-00003-of-00003.safetensors", "manifest.json"), names(dir));
        ImageSet back = PackedImages.open(dir, "train", 0, "packed:x:train", ProgressListener.NONE);
        assertEquals(23, back.count());
        assertArrayEquals(source.copyPixels(), back.copyPixels());
        assertArrayEquals(source.labels(), back.labels());
        assertEquals(source.fingerprint(), back.fingerprint());
        // the recorded fingerprint is the one computed from the shards' pixels
        assertEquals(source.fingerprint(), back.subset(java.util.stream.IntStream.range(0, 23).toArray()).fingerprint());
        ImageSet limited = PackedImages.open(dir, "train", 12, "packed:x:train", ProgressListener.NONE);
        assertEquals(12, limited.count());
        assertArrayEquals(source.image(11), limited.image(11));
    }

    @Test
    void shardHeadersListEachTensorsFieldsInOneOrderSoPacksAreReproducible() throws IOException {
        Path dir = pack(images(6, 1, 4, true), 6);
        byte[] bytes = Files.readAllBytes(dir.resolve(PackedImages.shardName(0, 1)));
        long length = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, (int) length, java.nio.charset.StandardCharsets.UTF_8).trim();
        assertEquals("{\"ids\":{\"dtype\":\"I64\",\"shape\":[6],\"data_offsets\":[0,48]},"
                + "\"labels\":{\"dtype\":\"I64\",\"shape\":[6],\"data_offsets\":[48,96]},"
                + "\"images\":{\"dtype\":\"U8\",\"shape\":[6,1,4,4],\"data_offsets\":[96,192]},"
                + "\"__metadata__\":{\"format\":\"coopt-packed-images/1\"}}", header);
    }

    /**
     * A pack keeps each image's index in the source split: a --limit draw's sparse ids, or a folder's listing ids around
     * files it skipped; opened again, the ids come back and the images are the same.
     */
    @Test
    void aPackOfADrawOrOfAFolderWithSkippedFilesKeepsTheSplitsIds() {
        ImageSet source = images(40, 1, 4, true);
        ImageSet drawn = source.draw(9, 4);
        Path dir = pack(drawn, 4);
        ImageSet back = PackedImages.open(dir, "train", 0, "packed:x:train", ProgressListener.NONE);
        assertEquals(9, back.count());
        assertEquals(drawn.drawn(), PackedImages.read(dir.resolve(PackedImages.MANIFEST)).source().subset());
        for (int i = 0; i < 9; i++) {
            assertEquals(drawn.sourceId(i), back.sourceId(i));
            assertArrayEquals(drawn.image(i), back.image(i));
        }
        assertEquals(drawn.fingerprint(), back.fingerprint());
        // the ids are bounded by the split the draw came from, not by the pack's own count
        assertEquals(drawn.drawn(), back.drawn());
        assertEquals(40, ManifestProvenance.Source.of("packed:x", "train", back).idBound());
        // a further draw from the pack keeps that bound, and names its images by their ids in the split
        ImageSet again4 = back.draw(4, 1);
        assertEquals(40, again4.drawn().of());
        int[] ids4 = new int[4];
        java.util.Arrays.setAll(ids4, i -> (int) again4.sourceId(i));
        assertEquals(Subset.sha256(ids4), again4.drawn().idsSha256());
        assertTrue(ids4[3] > 9, "the ids are the split's, not the pack's positions: " + java.util.Arrays.toString(ids4));
        // the whole split with two files skipped by the reader: ids 0..4 and 6..7 and 9..39
        int[] kept = java.util.stream.IntStream.range(0, 40).filter(i -> i != 5 && i != 8).toArray();
        ImageSet skipped = new ImageSet("folder:x:train", source.subset(kept).copyPixels(), kept.length, 1, 4, 4,
                source.subset(kept).labels()).withSkipped(2).withSourceIds(kept);
        Path other = tmp.resolve("skipped");
        PackedImages.write(other, skipped, "folder:x", "train", 16, CREATED, ProgressListener.NONE);
        ImageSet again = PackedImages.open(other, "train", 0, "packed:y:train", ProgressListener.NONE);
        assertEquals(38, again.count());
        assertEquals(6, again.sourceId(5));
        assertEquals(39, again.sourceId(37));
    }

    @Test
    void unlabelledImagesRoundTrip() {
        ImageSet source = images(4, 1, 7, false);
        ImageSet back = PackedImages.open(pack(source, 100), "train", 0, "s", ProgressListener.NONE);
        assertNull(back.labels());
        assertArrayEquals(source.copyPixels(), back.copyPixels());
    }

    @Test
    void aModifiedShardIsRefused() throws IOException {
        Path dir = pack(images(10, 1, 4, true), 5);
        Path shard = dir.resolve("images-00002-of-00002.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        bytes[bytes.length - 1] ^= 1;
        Files.write(shard, bytes);
        UserException e = assertThrows(UserException.class,
                () -> PackedImages.open(dir, "train", 0, "s", ProgressListener.NONE));
        assertTrue(e.getMessage().startsWith(shard + ": checksum mismatch"), e.getMessage());
    }

    @Test
    void aShardWhoseShapeDisagreesWithTheManifestIsRefused() throws IOException {
        Path dir = pack(images(6, 1, 4, true), 6);
        Path shard = dir.resolve("images-00001-of-00001.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        String patched = text.replace("[6,1,4,4]", "[6,1,2,8]");
        assertTrue(!patched.equals(text), "the header holds the shape");
        Files.write(shard, patched.getBytes(StandardCharsets.ISO_8859_1));
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = (ObjectNode) json.readTree(dir.resolve("manifest.json").toFile());
        ((ObjectNode) manifest.get("shards").get(0)).put("sha256", Checksums.sha256(shard));
        Files.writeString(dir.resolve("manifest.json"), json.writeValueAsString(manifest));
        UserException e = assertThrows(UserException.class,
                () -> PackedImages.open(dir, "train", 0, "s", ProgressListener.NONE));
        assertTrue(e.getMessage().contains("tensor 'images' is U8 [6, 1, 2, 8]"), e.getMessage());
    }

    @Test
    void manifestProblemsAreOneLineErrors() throws IOException {
        Path dir = pack(images(6, 1, 4, true), 3);
        ObjectMapper json = new ObjectMapper();
        ObjectNode good = (ObjectNode) json.readTree(dir.resolve("manifest.json").toFile());
        String[][] cases = {
                {"count", "7", "the shards hold 6 images"},
                {"channels", "2", "image shape 2x4x4"},
                {"height", "100000", "at most 8192"},
                {"surprise", "1", "surprise"},
        };
        for (String[] c : cases) {
            ObjectNode m = good.deepCopy();
            m.set(c[0], json.readTree(c[1]));
            Files.writeString(dir.resolve("manifest.json"), json.writeValueAsString(m));
            UserException e = assertThrows(UserException.class,
                    () -> PackedImages.open(dir, "train", 0, "s", ProgressListener.NONE), c[0]);
            assertTrue(e.getMessage().contains(c[2]), c[0] + ": " + e.getMessage());
        }
        ObjectNode renamed = good.deepCopy();
        ((ObjectNode) ((ArrayNode) renamed.get("shards")).get(0)).put("file", "../../etc/passwd");
        Files.writeString(dir.resolve("manifest.json"), json.writeValueAsString(renamed));
        UserException e = assertThrows(UserException.class, () -> PackedImages.open(dir, "train", 0, "s", ProgressListener.NONE));
        assertTrue(e.getMessage().contains("must be named images-00001-of-00002.safetensors"), e.getMessage());
        Files.writeString(dir.resolve("manifest.json"), json.writeValueAsString(good));
        e = assertThrows(UserException.class, () -> PackedImages.open(dir, "test", 0, "s", ProgressListener.NONE));
        assertTrue(e.getMessage().contains("holds the train split"), e.getMessage());
    }

    @Test
    void repackingReplacesAPackWithOtherShardsButNeverOtherFiles() throws IOException {
        Path dir = pack(images(10, 1, 4, false), 5);
        PackedImages.write(dir, images(10, 1, 4, false), "synthetic", "train", 3, CREATED, ProgressListener.NONE);
        assertEquals(5, names(dir).size());
        Files.writeString(dir.resolve("NOTES.md"), "mine");
        UserException e = assertThrows(UserException.class, () -> PackedImages.write(dir, images(10, 1, 4, false),
                "synthetic", "train", 5, CREATED, ProgressListener.NONE));
        assertTrue(e.getMessage().contains("NOTES.md"), e.getMessage());
    }

    @Test
    void imagesAreReadAtOffsetsBeyondTwoGibibytes() throws IOException {
        // a sparse file: 3 GiB of nothing, then one 2x2 image; CI writes a few bytes only
        Path file = tmp.resolve("big.bin");
        long offset = 3L << 30;
        try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}), offset);
        }
        var pixels = ai.coopt.data.FilePixels.open(List.of(new ai.coopt.data.FilePixels.Segment(file, 0, 2, offset)), 4);
        ImageSet set = new ImageSet("sparse", pixels, 2, 1, 2, 2, null);
        assertArrayEquals(new byte[] {0, 0, 0, 0}, set.image(0));
        assertArrayEquals(new byte[] {1, 2, 3, 4}, set.image(1));
    }

    @Test
    void aSingleShardFileHoldsAnySubsetWithItsIdsAndIsCheckedWhenOpened(@TempDir Path tmp) throws IOException {
        ImageSet all = images(50, 3, 5, true);
        int[] rows = {3, 7, 8, 20, 49};
        long[] ids = {3, 7, 8, 20, 49};
        Path file = tmp.resolve("shard.safetensors");
        String sha = PackedImages.writeFile(file, all.subset(rows), ids);
        assertEquals(sha, PackedImages.writeFile(tmp.resolve("again.safetensors"), all.subset(rows), ids),
                "the same images pack to the same bytes");
        ImageSet back = PackedImages.openFile(file, sha, ids, "shard");
        assertEquals(5, back.count());
        for (int i = 0; i < rows.length; i++) {
            assertArrayEquals(all.image(rows[i]), back.image(i));
        }
        assertThrows(UserException.class, () -> PackedImages.openFile(file, "0".repeat(64), ids, "shard"));
        assertThrows(UserException.class, () -> PackedImages.openFile(file, sha, new long[] {3, 7, 9, 20, 49}, "shard"));
        assertThrows(UserException.class, () -> PackedImages.openFile(file, sha, new long[] {3, 7}, "shard"));
    }

    private static List<String> names(Path dir) {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
