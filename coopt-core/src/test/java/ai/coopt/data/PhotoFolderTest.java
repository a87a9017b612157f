package ai.coopt.data;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Folders of real-world photos: sizes, colour modes, EXIF orientation, damaged files. */
class PhotoFolderTest {
    @TempDir
    Path dir;

    private static ImageFolderReader.Options size(int side) {
        return new ImageFolderReader.Options(side, false);
    }

    private static int pixel(ImageSet set, int i, int c, int y, int x) {
        int plane = set.height() * set.width();
        return set.copyPixels()[i * set.imageSize() + c * plane + y * set.width() + x] & 0xff;
    }

    private static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, format, out), "no writer for " + format);
        return out.toByteArray();
    }

    private static Path write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, bytes);
    }

    /** A w × h RGB image: columns left of {@code split} are {@code left}, the others {@code right}. */
    private static BufferedImage halves(int w, int h, int split, int left, int right) {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                image.setRGB(x, y, x < split ? left : right);
            }
        }
        return image;
    }

    /** A JPEG with an EXIF APP1 segment (big-endian TIFF, one IFD entry: Orientation) after its JFIF APP0. */
    private static byte[] withOrientation(byte[] jpeg, int orientation) {
        ByteBuffer tiff = ByteBuffer.allocate(26);
        tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
        tiff.putShort((short) 1);
        tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
        tiff.putInt(0);
        byte[] exif = "Exif\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        int length = 2 + exif.length + tiff.capacity();
        ByteBuffer app1 = ByteBuffer.allocate(2 + length);
        app1.put((byte) 0xFF).put((byte) 0xE1).putShort((short) length).put(exif).put(tiff.array());
        assertEquals((byte) 0xE0, jpeg[3], "expected a JFIF APP0 after SOI");
        int afterApp0 = 4 + (((jpeg[4] & 0xff) << 8) | (jpeg[5] & 0xff));
        byte[] out = new byte[jpeg.length + app1.capacity()];
        System.arraycopy(jpeg, 0, out, 0, afterApp0);
        System.arraycopy(app1.array(), 0, out, afterApp0, app1.capacity());
        System.arraycopy(jpeg, afterApp0, out, afterApp0 + app1.capacity(), jpeg.length - afterApp0);
        return out;
    }

    /**
     * A real Adobe CMYK JPEG (16 × 16: the top half rgb(200, 40, 10), the bottom rgb(20, 60, 220)), made with
     * {@code convert -size 16x8 xc:'rgb(200,40,10)' ( -size 16x8 xc:'rgb(20,60,220)' ) -append -colorspace CMYK
     * -quality 100 -sampling-factor 1x1 adobe-cmyk.jpg} (ImageMagick 6.9.11). It carries the Adobe APP14 marker and
     * inverted CMYK samples, as Photoshop writes them, and no ICC profile, so the RGB it decodes to depends on the
     * reader's default CMYK conversion: the test asks for the colours within 40 levels and in the right order.
     */
    @Test
    void anAdobeCmykJpegDecodesToItsColours() throws IOException, java.net.URISyntaxException {
        Path source = Path.of(getClass().getResource("/photos/adobe-cmyk.jpg").toURI());
        write(dir.resolve("train/a/cmyk.jpg"), Files.readAllBytes(source));
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "s", size(16));
        assertEquals(1, set.count());
        assertEquals(3, set.channels());
        int[][] expected = {{200, 40, 10}, {20, 60, 220}};
        for (int half = 0; half < 2; half++) {
            int y = half == 0 ? 3 : 12;
            int[] rgb = new int[3];
            for (int c = 0; c < 3; c++) {
                rgb[c] = pixel(set, 0, c, y, 8);
                assertEquals(expected[half][c], rgb[c], 40, "half " + half + " channel " + c + ": " + Arrays.toString(rgb));
            }
        }
        assertTrue(pixel(set, 0, 0, 3, 8) > pixel(set, 0, 1, 3, 8) && pixel(set, 0, 1, 3, 8) > pixel(set, 0, 2, 3, 8));
        assertTrue(pixel(set, 0, 2, 12, 8) > pixel(set, 0, 1, 12, 8) && pixel(set, 0, 1, 12, 8) > pixel(set, 0, 0, 12, 8));
    }

    @Test
    void shorterSideIsResizedAndTheCentreKept() throws IOException {
        // 40 x 20: red quarter, green half, blue quarter; the centre 20 x 20 square is the green half
        BufferedImage image = new BufferedImage(40, 20, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 20; y++) {
            for (int x = 0; x < 40; x++) {
                image.setRGB(x, y, x < 10 ? 0xff0000 : x < 30 ? 0x00ff00 : 0x0000ff);
            }
        }
        write(dir.resolve("wide.png"), encode(image, "png"));
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "s", size(10));
        assertEquals(10, set.height());
        assertEquals(10, set.width());
        for (int y = 0; y < 10; y++) {
            for (int x = 1; x < 9; x++) {
                assertEquals(0, pixel(set, 0, 0, y, x), "red at " + x);
                assertEquals(255, pixel(set, 0, 1, y, x), "green at " + x);
                assertEquals(0, pixel(set, 0, 2, y, x), "blue at " + x);
            }
        }
    }

    @Test
    void exifOrientationTurnsThePhotoUpright() throws IOException {
        // stored 40 x 20, left half dark, right half light; orientation 6 means "rotate 90 degrees clockwise to
        // view", so upright it is 20 x 40 with the dark half on top
        byte[] jpeg = encode(halves(40, 20, 20, 0x101010, 0xf0f0f0), "jpg");
        write(dir.resolve("a-plain.jpg"), jpeg);
        write(dir.resolve("b-rotated.jpg"), withOrientation(jpeg, 6));
        write(dir.resolve("c-mirrored.jpg"), withOrientation(jpeg, 2));
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "s", size(20));
        assertEquals(3, set.count());
        assertDark(set, 0, 10, 2);
        assertLight(set, 0, 10, 17);
        assertDark(set, 1, 2, 10);
        assertLight(set, 1, 17, 10);
        assertLight(set, 2, 10, 2);
        assertDark(set, 2, 10, 17);
    }

    private static void assertDark(ImageSet set, int i, int y, int x) {
        assertTrue(pixel(set, i, 0, y, x) < 60, "image " + i + " at (" + y + ", " + x + "): " + pixel(set, i, 0, y, x));
    }

    private static void assertLight(ImageSet set, int i, int y, int x) {
        assertTrue(pixel(set, i, 0, y, x) > 200, "image " + i + " at (" + y + ", " + x + "): " + pixel(set, i, 0, y, x));
    }

    @Test
    void everyColourModeIsRead() throws IOException {
        BufferedImage gray16 = new BufferedImage(8, 8, BufferedImage.TYPE_USHORT_GRAY);
        BufferedImage rgba = new BufferedImage(8, 8, BufferedImage.TYPE_INT_ARGB);
        IndexColorModel palette = new IndexColorModel(8, 2, new byte[] {0, (byte) 200}, new byte[] {0, 10},
                new byte[] {0, 20});
        BufferedImage indexed = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_INDEXED, palette);
        BufferedImage grayJpeg = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                gray16.getRaster().setSample(x, y, 0, 0x8080);
                rgba.setRGB(x, y, 0x40102030); // mostly transparent; the colour is kept, alpha dropped
                indexed.getRaster().setSample(x, y, 0, 1);
                grayJpeg.getRaster().setSample(x, y, 0, 90);
            }
        }
        write(dir.resolve("1-gray16.png"), encode(gray16, "png"));
        write(dir.resolve("2-rgba.png"), encode(rgba, "png"));
        write(dir.resolve("3-indexed.png"), encode(indexed, "png"));
        write(dir.resolve("4-gray.jpg"), encode(grayJpeg, "jpg"));
        write(dir.resolve("5-rgb.jpg"), encode(halves(8, 8, 0, 0, 0x3060c0), "jpg"));
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "s", size(4));
        assertEquals(5, set.count());
        assertEquals(3, set.channels());
        for (int c = 0; c < 3; c++) {
            assertEquals(128, pixel(set, 0, c, 1, 1), "16-bit gray scaled to 8 bits");
            assertTrue(Math.abs(pixel(set, 3, c, 1, 1) - 90) <= 2, "gray JPEG " + pixel(set, 3, c, 1, 1));
        }
        assertArrayEquals(new int[] {0x10, 0x20, 0x30}, new int[] {pixel(set, 1, 0, 1, 1), pixel(set, 1, 1, 1, 1),
                pixel(set, 1, 2, 1, 1)});
        assertArrayEquals(new int[] {200, 10, 20}, new int[] {pixel(set, 2, 0, 1, 1), pixel(set, 2, 1, 1, 1),
                pixel(set, 2, 2, 1, 1)});
        assertTrue(Math.abs(pixel(set, 4, 2, 1, 1) - 0xc0) <= 4, "blue of the RGB JPEG " + pixel(set, 4, 2, 1, 1));
    }

    @Test
    void nestedClassFoldersAreSearched() throws IOException {
        byte[] png = encode(halves(6, 6, 3, 0, 0xffffff), "png");
        write(dir.resolve("cats/indoor/a.png"), png);
        write(dir.resolve("cats/outdoor/deep/b.png"), png);
        write(dir.resolve("dogs/c.png"), png);
        write(dir.resolve("dogs/.thumbnails/hidden.png"), png);
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "s", size(6));
        assertArrayEquals(new int[] {0, 0, 1}, set.labels());
    }

    @Test
    void damagedFilesAreNamedOrSkippedAndCounted() throws IOException {
        Random random = new Random(1);
        BufferedImage noise = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                noise.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        byte[] jpeg = encode(noise, "jpg");
        byte[] png = encode(noise, "png");
        write(dir.resolve("a-good.jpg"), jpeg);
        Path truncatedJpeg = write(dir.resolve("b-truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length * 2 / 3));
        write(dir.resolve("c-empty.png"), new byte[0]);
        byte[] bogusHeader = png.clone();
        bogusHeader[16] = 0x7f; // width 2 billion pixels; the header's checksum no longer matches either
        write(dir.resolve("d-bogus-header.png"), bogusHeader);
        write(dir.resolve("e-truncated.png"), Arrays.copyOf(png, png.length / 2));
        write(dir.resolve("f-good.png"), png);
        UserException e = assertThrows(UserException.class, () -> ImageFolderReader.read(dir, "train", 0, "s", size(8)));
        assertTrue(e.getMessage().startsWith(truncatedJpeg.toString()), e.getMessage());
        assertTrue(e.settings().contains(ai.coopt.Setting.SKIP_BAD_IMAGES), e.getMessage());  // FlagsTest: --skip-bad-images
        ImageSet set = ImageFolderReader.read(dir, "train", 0, "s", new ImageFolderReader.Options(8, true));
        assertEquals(2, set.count());
        assertEquals(4, set.skipped());
    }

    @Test
    void theResultDoesNotDependOnDecodingOrder() throws IOException {
        Random random = new Random(2);
        for (int i = 0; i < 24; i++) {
            int w = 20 + random.nextInt(60);
            int h = 20 + random.nextInt(60);
            write(dir.resolve("c" + (i % 3) + "/img-" + i + (i % 2 == 0 ? ".png" : ".jpg")),
                    encode(halves(w, h, w / 3, random.nextInt(1 << 24), random.nextInt(1 << 24)), i % 2 == 0 ? "png" : "jpg"));
        }
        String first = ImageFolderReader.read(dir, "train", 0, "s", size(16)).fingerprint();
        String second = ImageFolderReader.read(dir, "train", 0, "s", size(16)).fingerprint();
        assertEquals(first, second);
    }

    @Test
    void imageSizesOutsideTheLimitsAreRefused() {
        assertThrows(UserException.class, () -> new ImageFolderReader.Options(0, false));
        UserException e = assertThrows(UserException.class, () -> new ImageFolderReader.Options(100000, false));
        assertTrue(e.settings().contains(ai.coopt.Setting.IMAGE_SIZE), e.getMessage());  // FlagsTest: --image-size
    }
}
