package ai.coopt.dataset;

import ai.coopt.UserException;
import ai.coopt.data.IdxReaderTest;
import ai.coopt.data.ImageSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetSpecTest {
    @TempDir
    Path dir;

    @Test
    void parsesEveryForm() {
        assertEquals("fashion-mnist", DatasetSpec.parse("fashion-mnist").spec());
        assertEquals("mnist", DatasetSpec.parse(" mnist ").toString());
        for (String scheme : new String[] {"idx", "cifar10", "cifar100", "folder"}) {
            assertEquals(scheme + ":" + dir, DatasetSpec.parse(scheme + ":" + dir).spec());
        }
    }

    @Test
    void directoriesBecomeAbsoluteAndNormal() {
        Path cwd = Path.of("").toAbsolutePath();
        assertEquals("idx:" + cwd.resolve("data/x"), DatasetSpec.parse("idx:data/./x/").spec());
        assertEquals("folder:" + Path.of(System.getProperty("user.home"), "pics"),
                DatasetSpec.parse("folder:~/pics").spec());
        assertEquals("idx:" + dir, DatasetSpec.parse("idx:" + dir + "/sub/..").spec());
    }

    @Test
    void badSpecsListTheAcceptedForms() {
        for (String bad : new String[] {"", "  ", "imagenet", "Fashion-MNIST", "idx:", "cifar10", "svhn:/data", ":x"}) {
            UserException e = assertThrows(UserException.class, () -> DatasetSpec.parse(bad), bad);
            assertTrue(e.getMessage().contains(DatasetSpec.ACCEPTED_FORMS), e.getMessage());
        }
        assertThrows(UserException.class, () -> DatasetSpec.parse(null));
    }

    @Test
    void loadsIdxSplitsWithSource() throws IOException {
        IdxReaderTest.writeDataset(dir, 12, 4, true);
        DatasetSpec spec = DatasetSpec.parse("idx:" + dir);
        ImageSet train = spec.load("train", 0);
        assertEquals(12, train.count());
        assertEquals("idx:" + dir + ":train", train.source());
        assertArrayEquals(IdxReaderTest.labels(12), train.labels());
        ImageSet test = spec.load("test", 3);
        assertEquals(3, test.count());
        assertEquals(6, test.height());
        assertEquals(5, test.width());
        assertEquals("idx:" + dir + ":test", test.source());
    }

    @Test
    void loadsCifarAndFolderThroughTheSpec() throws IOException {
        Files.write(dir.resolve("test_batch.bin"), new byte[2 * 3073]);
        assertEquals(2, DatasetSpec.parse("cifar10:" + dir).load("test", 0).count());
        Path test = dir.resolve("cifar-100-binary/test.bin");
        Files.createDirectories(test.getParent());
        Files.write(test, new byte[3074]);
        assertEquals(1, DatasetSpec.parse("cifar100:" + dir).load("test", -1).count());
        Path images = dir.resolve("images");
        Files.createDirectories(images);
        ImageIO.write(new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY), "png", images.resolve("t.png").toFile());
        ImageSet folder = DatasetSpec.parse("folder:" + images).load("train", 0);
        assertEquals(1, folder.count());
        assertEquals("folder:" + images + ":train", folder.source());
    }

    @Test
    void loadErrors() throws IOException {
        DatasetSpec missing = DatasetSpec.parse("idx:" + dir.resolve("absent"));
        UserException e = assertThrows(UserException.class, () -> missing.load("train", 0));
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());

        IdxReaderTest.writeDataset(dir, 3, 3, false);
        DatasetSpec spec = DatasetSpec.parse("idx:" + dir);
        e = assertThrows(UserException.class, () -> spec.load("validation", 0));
        assertTrue(e.getMessage().contains("use train or test"), e.getMessage());

        Files.delete(dir.resolve("t10k-labels-idx1-ubyte"));
        e = assertThrows(UserException.class, () -> spec.load("test", 0));
        assertEquals(dir + " has no t10k-labels-idx1-ubyte (or t10k-labels-idx1-ubyte.gz)", e.getMessage());
    }
}
