package ai.coopt.data;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CifarReaderTest {
    private static final int PIXELS = 3072;

    @TempDir
    Path dir;

    /** Records whose pixel bytes all equal {@code fill + r} and whose label bytes are {@code heads[r]}. */
    private static byte[] records(int fill, int[]... heads) {
        int headSize = heads[0].length;
        byte[] out = new byte[heads.length * (headSize + PIXELS)];
        for (int r = 0; r < heads.length; r++) {
            int at = r * (headSize + PIXELS);
            for (int h = 0; h < headSize; h++) {
                out[at + h] = (byte) heads[r][h];
            }
            Arrays.fill(out, at + headSize, at + headSize + PIXELS, (byte) (fill + r));
        }
        return out;
    }

    /** Five train batches of two records (labels 2b, 2b+1; pixels 10b, 10b+1) and a test batch of three. */
    private static void writeCifar10(Path home) throws IOException {
        Files.createDirectories(home);
        for (int b = 0; b < 5; b++) {
            Files.write(home.resolve("data_batch_" + (b + 1) + ".bin"),
                    records(10 * b, new int[] {2 * b}, new int[] {2 * b + 1}));
        }
        Files.write(home.resolve("test_batch.bin"), records(200, new int[] {9}, new int[] {8}, new int[] {7}));
    }

    @Test
    void cifar10TrainReadsTheFiveBatchesInOrder() throws IOException {
        writeCifar10(dir);
        ImageSet set = CifarReader.readCifar10(dir, "train", 0, "cifar10:x:train");
        assertEquals(10, set.count());
        assertEquals(3, set.channels());
        assertEquals(32, set.height());
        assertEquals(32, set.width());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, set.labels());
        assertEquals(31, set.copyPixels()[7 * PIXELS + 100]);
        assertEquals("cifar10:x:train", set.source());
    }

    @Test
    void cifar10TestAndLimitAcrossFiles() throws IOException {
        writeCifar10(dir);
        ImageSet test = CifarReader.readCifar10(dir, "test", 0, "s");
        assertArrayEquals(new int[] {9, 8, 7}, test.labels());
        assertEquals(202, test.copyPixels()[2 * PIXELS] & 0xff);
        ImageSet limited = CifarReader.readCifar10(dir, "train", 3, "s");
        assertArrayEquals(new int[] {0, 1, 2}, limited.labels());
        assertEquals(10, limited.copyPixels()[2 * PIXELS + 5]);
    }

    @Test
    void cifar10FoundInsideItsArchiveFolder() throws IOException {
        writeCifar10(dir.resolve("cifar-10-batches-bin"));
        assertEquals(3, CifarReader.readCifar10(dir, "test", 0, "s").count());
    }

    @Test
    void cifar100UsesTheFineLabel() throws IOException {
        Path home = dir.resolve("cifar-100-binary");
        Files.createDirectories(home);
        Files.write(home.resolve("train.bin"), records(1, new int[] {3, 77}, new int[] {19, 99}));
        Files.write(home.resolve("test.bin"), records(5, new int[] {0, 42}));
        ImageSet train = CifarReader.readCifar100(dir, "train", 0, "s");
        assertArrayEquals(new int[] {77, 99}, train.labels());
        assertEquals(2, train.copyPixels()[PIXELS + 3071]);
        assertArrayEquals(new int[] {42}, CifarReader.readCifar100(home, "test", 0, "s").labels());
    }

    @Test
    void truncatedFileIsNamed() throws IOException {
        writeCifar10(dir);
        Path batch = dir.resolve("data_batch_3.bin");
        byte[] data = Files.readAllBytes(batch);
        Files.write(batch, Arrays.copyOf(data, data.length - 10));
        UserException e = assertThrows(UserException.class, () -> CifarReader.readCifar10(dir, "train", 0, "s"));
        assertTrue(e.getMessage().startsWith(batch + ": truncated"), e.getMessage());
    }

    @Test
    void missingFilesAndWrongLabels() throws IOException {
        UserException e = assertThrows(UserException.class, () -> CifarReader.readCifar10(dir, "train", 0, "s"));
        assertTrue(e.getMessage().contains("cifar-10-batches-bin"), e.getMessage());

        writeCifar10(dir);
        Files.delete(dir.resolve("data_batch_4.bin"));
        e = assertThrows(UserException.class, () -> CifarReader.readCifar10(dir, "train", 0, "s"));
        assertTrue(e.getMessage().contains("data_batch_4.bin"), e.getMessage());

        Files.write(dir.resolve("test_batch.bin"), records(0, new int[] {12}));
        e = assertThrows(UserException.class, () -> CifarReader.readCifar10(dir, "test", 0, "s"));
        assertTrue(e.getMessage().contains("label 12"), e.getMessage());

        assertThrows(UserException.class, () -> CifarReader.readCifar10(dir, "val", 0, "s"));
    }
}
