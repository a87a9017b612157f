import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.zip.GZIPInputStream;

/**
 * Writes a folder of photo-like files for benchmarking coopt's folder reader (nothing here is committed data):
 * deterministic transformations of Fashion-MNIST train images, one sub-folder per class, each file upscaled to a
 * random size of 200-1,500 px a side (mixed aspect ratios), tinted, and saved as RGB JPEG (60%), gray JPEG (15%),
 * RGB PNG (10%), gray PNG (10%) or RGBA PNG (5%). The same N and SEED always give the same files.
 *
 *   java scripts/MakePhotoFolder.java OUT_DIR N [SEED] [FASHION_MNIST_DIR]
 */
public class MakePhotoFolder {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: java scripts/MakePhotoFolder.java OUT_DIR N [SEED] [FASHION_MNIST_DIR]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        long seed = args.length > 2 ? Long.parseLong(args[2]) : 0;
        Path fm = Path.of(args.length > 3 ? args[3] : "/usr/share/datasets/fashion-mnist");
        byte[] pixels = idx(fm.resolve("train-images-idx3-ubyte.gz"), 16);
        byte[] labels = idx(fm.resolve("train-labels-idx1-ubyte.gz"), 8);
        int available = labels.length;
        for (int c = 0; c < 10; c++) {
            Files.createDirectories(out.resolve("class-" + c));
        }
        AtomicInteger done = new AtomicInteger();
        IntStream.range(0, n).parallel().forEach(i -> {
            try {
                write(out, i, seed, pixels, labels[i % available], i % available);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            int d = done.incrementAndGet();
            if (d % 1000 == 0) {
                System.err.println(d + " / " + n);
            }
        });
        System.err.println("wrote " + n + " files into " + out);
    }

    private static void write(Path out, int i, long seed, byte[] pixels, int label, int source) throws IOException {
        Random random = new Random(seed * 1_000_003L + i);
        int w = 200 + random.nextInt(1301);
        int h = 200 + random.nextInt(1301);
        int mode = random.nextInt(100);
        boolean gray = (mode >= 60 && mode < 75) || (mode >= 85 && mode < 95);
        BufferedImage small = new BufferedImage(28, 28, BufferedImage.TYPE_INT_ARGB);
        int tint = random.nextInt(1 << 24);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                int v = pixels[source * 784 + y * 28 + x] & 0xff;
                int r = gray ? v : (v * ((tint >> 16) & 0xff) + (255 - v) * 40) / 255;
                int g = gray ? v : (v * ((tint >> 8) & 0xff) + (255 - v) * 40) / 255;
                int b = gray ? v : (v * (tint & 0xff) + (255 - v) * 40) / 255;
                small.setRGB(x, y, 0xff000000 | (r << 16) | (g << 8) | b);
            }
        }
        int type = gray ? BufferedImage.TYPE_BYTE_GRAY : mode >= 95 ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB;
        BufferedImage big = new BufferedImage(w, h, type);
        Graphics2D g = big.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(small, 0, 0, w, h, null);
        g.dispose();
        boolean jpeg = mode < 75;
        File file = out.resolve("class-" + label).resolve(String.format("img-%07d.%s", i, jpeg ? "jpg" : "png")).toFile();
        if (jpeg) {
            ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.85f);
            try (ImageOutputStream stream = ImageIO.createImageOutputStream(file)) {
                writer.setOutput(stream);
                writer.write(null, new IIOImage(big, null, null), param);
            } finally {
                writer.dispose();
            }
        } else if (!ImageIO.write(big, "png", file)) {
            throw new IOException("no PNG writer");
        }
    }

    private static byte[] idx(Path file, int header) throws IOException {
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(file), 1 << 16))) {
            byte[] all = in.readAllBytes();
            return java.util.Arrays.copyOfRange(all, header, all.length);
        }
    }
}
