package ai.coopt.data;

import ai.coopt.UserException;
import ai.coopt.dataset.DatasetSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageFolderReaderTest {
    @TempDir
    Path dir;

    private static void rgb(Path file, int width, int height, int rgb) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, rgb);
            }
        }
        save(file, image);
    }

    private static void gray(Path file, int width, int height, int value) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.getRaster().setSample(x, y, 0, value);
            }
        }
        save(file, image);
    }

    private static void save(Path file, BufferedImage image) throws IOException {
        Files.createDirectories(file.getParent());
        String format = file.toString().endsWith(".png") ? "png" : "jpg";
        if (!ImageIO.write(image, format, file.toFile())) {
            throw new IOException("no writer for " + format);
        }
    }

    /** The value of channel c of image i (constant over the image in these tests). */
    private static int pixel(ImageSet set, int i, int c, int y, int x) {
        int plane = set.height() * set.width();
        return set.copyPixels()[i * set.imageSize() + c * plane + y * set.width() + x] & 0xff;
    }

    private static ImageFolderReader.Options size(int side) {
        return new ImageFolderReader.Options(side, false);
    }

    /** A folder of 32-px images was scaled up to 64 px when no size was given, quadrupling every later cost. */
    @Test
    void imagesThatShareOneSizeKeepItUnlessASizeIsAsked() throws IOException {
        rgb(dir.resolve("same/train/cat/a.png"), 12, 12, 0xff0000);
        rgb(dir.resolve("same/train/dog/b.jpg"), 12, 12, 0x0000ff);
        gray(dir.resolve("same/train/dog/c.png"), 12, 12, 100);
        ImageSet native12 = ImageFolderReader.read(dir.resolve("same"), "train", 0, "s", ImageFolderReader.Options.defaults());
        assertEquals(12, native12.height());
        assertEquals(12, native12.width());
        assertEquals(12, DatasetSpec.parse("folder:" + dir.resolve("same")).withImageOptions(null, false)
                .load("train", 0).height(), "the CLI's default goes the same way");
        assertEquals(8, ImageFolderReader.read(dir.resolve("same"), "train", 0, "s", size(8)).height(), "asked: 8");
        assertEquals(64, DatasetSpec.parse("folder:" + dir.resolve("same")).withImageOptions(64, false)
                .load("train", 0).height(), "asked for the default size explicitly: 64");

        // one size, either way round (a turned photo): its shorter side
        rgb(dir.resolve("turned/p/a.png"), 10, 14, 0xff0000);
        rgb(dir.resolve("turned/p/b.png"), 14, 10, 0x00ff00);
        assertEquals(10, ImageFolderReader.read(dir.resolve("turned"), "train", 0, "s", ImageFolderReader.Options.defaults())
                .height());

        // mixed sizes: the default side
        rgb(dir.resolve("mixed/x/a.png"), 12, 12, 0xff0000);
        rgb(dir.resolve("mixed/x/b.png"), 20, 20, 0x00ff00);
        assertEquals(ImageFolderReader.DEFAULT_IMAGE_SIZE, ImageFolderReader.read(dir.resolve("mixed"), "train", 0, "s",
                ImageFolderReader.Options.defaults()).height());
        // only the images read count: the first one alone shares its own size
        assertEquals(12, ImageFolderReader.read(dir.resolve("mixed"), "train", 1, "s",
                ImageFolderReader.Options.defaults()).height());
    }

    @Test
    void twoClassesWithLabelsResizedToTheAskedSquare() throws IOException {
        rgb(dir.resolve("cat/a.png"), 4, 3, 0xff0000);
        rgb(dir.resolve("dog/b.png"), 9, 7, 0x0000ff);
        gray(dir.resolve("dog/c.png"), 2, 2, 100);
        Files.writeString(dir.resolve("dog/notes.txt"), "ignored");
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "folder:x:train", size(4));
        assertEquals(3, set.count());
        assertEquals(3, set.channels());
        assertEquals(4, set.height());
        assertEquals(4, set.width());
        assertArrayEquals(new int[] {0, 1, 1}, set.labels());
        assertEquals("folder:x:train", set.source());
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                assertEquals(255, pixel(set, 0, 0, y, x));
                assertEquals(0, pixel(set, 0, 2, y, x));
                assertEquals(0, pixel(set, 1, 0, y, x));
                assertEquals(255, pixel(set, 1, 2, y, x));
                for (int c = 0; c < 3; c++) {
                    assertEquals(100, pixel(set, 2, c, y, x));
                }
            }
        }
    }

    @Test
    void allGrayGivesOneChannelWithValuesKept() throws IOException {
        gray(dir.resolve("a/1.png"), 3, 3, 37);
        gray(dir.resolve("b/2.png"), 6, 6, 200);
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "s", size(3));
        assertEquals(1, set.channels());
        assertEquals(3, set.height());
        assertEquals(37, pixel(set, 0, 0, 1, 1));
        assertEquals(200, pixel(set, 1, 0, 2, 2));
    }

    @Test
    void bilinearResizeInterpolates() throws IOException {
        BufferedImage ramp = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        ramp.getRaster().setSample(0, 0, 0, 0);
        ramp.getRaster().setSample(1, 0, 0, 200);
        gray(dir.resolve("a.png"), 8, 1, 0);
        save(dir.resolve("b.png"), ramp);
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "s", size(8));
        int previous = -1;
        boolean between = false;
        for (int x = 0; x < 8; x++) {
            int v = pixel(set, 1, 0, 0, x);
            assertTrue(v >= previous, "not monotonic at " + x);
            between |= v > 0 && v < 200;
            previous = v;
        }
        assertTrue(between, "no interpolated values");
    }

    @Test
    void jpegIsRead() throws IOException {
        rgb(dir.resolve("x/photo.JPG"), 8, 8, 0x808080);
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "s");
        assertEquals(1, set.count());
        assertTrue(Math.abs(pixel(set, 0, 1, 4, 4) - 128) <= 3);
    }

    @Test
    void unlabeledFolderAndLimit() throws IOException {
        for (int i = 0; i < 5; i++) {
            rgb(dir.resolve("img" + i + ".png"), 2, 2, i * 10);
        }
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "s");
        assertEquals(5, set.count());
        assertNull(set.labels());
        ImageSet limited = ImageFolderReader.read(dir, "train", 2, "s");
        assertEquals(2, limited.count());
        assertArrayEquals(Subset.draw(5, null, 2, 0).indices(), new int[] {(int) limited.sourceId(0), (int) limited.sourceId(1)});
        for (int i = 0; i < 2; i++) {
            assertEquals(10 * limited.sourceId(i), pixel(limited, i, 2, 0, 0), "image i is file sourceId(i) of the listing");
        }
    }

    @Test
    void aLimitOfAClassSortedFolderDecodesAStratifiedDrawAndKeepsListingIds() throws IOException {
        for (String c : new String[] {"a", "b", "c"}) {
            for (int i = 0; i < 4; i++) {
                rgb(dir.resolve(c + "/" + i + ".png"), 2, 2, (c.charAt(0) - 'a') * 40 + i * 10);
            }
        }
        ImageSet set = ImageFolderReader.read(dir, "train", 6, 9, "s", size(2));
        assertEquals(6, set.count());
        assertArrayEquals(new int[] {0, 0, 1, 1, 2, 2}, set.labels(), () -> "two of each class, in listing order: " + java.util.Arrays.toString(set.labels()) + " ids " + java.util.stream.IntStream.range(0, set.count()).mapToObj(i -> "" + set.sourceId(i)).toList());
        assertEquals(Subset.draw(12, new int[] {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}, 6, 9).subset(), set.drawn());
        for (int i = 0; i < 6; i++) {
            long id = set.sourceId(i);
            assertEquals((id / 4) * 40 + (id % 4) * 10, pixel(set, i, 2, 0, 0), "file " + id + " of the listing");
        }
        assertEquals(set.fingerprint(), ImageFolderReader.read(dir, "train", 6, 9, "s", size(2)).fingerprint());
        // a file that cannot be decoded is skipped, and the ids after it stay the files' places in the listing
        Files.writeString(dir.resolve("b/1.png"), "not a png");
        ImageSet skipped = ImageFolderReader.read(dir, "train", 0, "s", new ImageFolderReader.Options(2, true));
        assertEquals(11, skipped.count());
        assertEquals(4, skipped.sourceId(4));
        assertEquals(6, skipped.sourceId(5));
        assertEquals(11, skipped.sourceId(10));
    }

    @Test
    void trainAndTestOrValSplits() throws IOException {
        rgb(dir.resolve("train/a/1.png"), 2, 2, 1);
        rgb(dir.resolve("train/b/1.png"), 2, 2, 2);
        rgb(dir.resolve("val/a/1.png"), 2, 2, 3);
        assertEquals(2, ImageFolderReader.read(dir, "train", 0, "s").count());
        ImageSet test = ImageFolderReader.read(dir, "test", 0, "s");
        assertEquals(1, test.count());
        assertEquals(3, pixel(test, 0, 2, 0, 0));
    }

    @Test
    void singleFolderHasNoTestSplit() throws IOException {
        rgb(dir.resolve("a/1.png"), 2, 2, 1);
        UserException e = assertThrows(UserException.class, () -> ImageFolderReader.read(dir, "test", 0, "s"));
        assertTrue(e.getMessage().contains("only split is train"), e.getMessage());
    }

    @Test
    void emptyFolderAndEmptyClass() throws IOException {
        UserException e = assertThrows(UserException.class, () -> ImageFolderReader.read(dir, "train", 0, "s"));
        assertEquals(dir + " holds no PNG or JPEG images", e.getMessage());
        rgb(dir.resolve("a/1.png"), 2, 2, 1);
        Files.createDirectories(dir.resolve("b"));
        e = assertThrows(UserException.class, () -> ImageFolderReader.read(dir, "train", 0, "s"));
        assertTrue(e.getMessage().contains(dir.resolve("b").toString()), e.getMessage());
    }

    @Test
    void unreadableImageIsNamed() throws IOException {
        rgb(dir.resolve("a/1.png"), 2, 2, 1);
        Path broken = dir.resolve("a/2.png");
        Files.write(broken, new byte[] {1, 2, 3, 4, 5});
        UserException e = assertThrows(UserException.class, () -> ImageFolderReader.read(dir, "train", 0, "s"));
        assertTrue(e.getMessage().startsWith(broken.toString()), e.getMessage());
    }

    @Test
    void mixingFilesAndClassFoldersIsRefused() throws IOException {
        rgb(dir.resolve("a/1.png"), 2, 2, 1);
        rgb(dir.resolve("loose.png"), 2, 2, 1);
        assertThrows(UserException.class, () -> ImageFolderReader.read(dir, "train", 0, "s"));
    }
}
