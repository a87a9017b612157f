import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.zip.GZIPInputStream;

/**
 * Writes benchmark data made from Fashion-MNIST train by deterministic transformations (nothing here is committed
 * data; the same arguments always give the same files).
 *
 * <ul>
 *   <li>{@code photos OUT N [SEED]}: a folder of photo-like files, one sub-folder per class, each upscaled to a random
 *       size of 200-1,500 px a side (mixed aspect ratios), tinted, and saved as RGB JPEG (60%), gray JPEG (15%),
 *       RGB PNG (10%), gray PNG (10%) or RGBA PNG (5%).</li>
 *   <li>{@code idx OUT N}: a raw IDX dataset of N train images (and the test split as it is). Image i is source image
 *       i mod 60,000 in copy k = i / 60,000; copy 0 is the original, copy k > 0 is shifted by (dx, dy) in [-3, 3] and
 *       mirrored when k is odd, with dx, dy drawn from a generator seeded with k (written to transformations.txt).
 *       {@code coopt data pack --data idx:OUT --out PACK} then packs it.</li>
 * </ul>
 *
 *   java scripts/MakeBenchData.java photos|idx OUT_DIR N [SEED]      (FASHION_MNIST=DIR overrides the source)
 */
public class MakeBenchData {
    public static void main(String[] args) throws Exception {
        if (args.length < 3 || !(args[0].equals("photos") || args[0].equals("idx"))) {
            System.err.println("usage: java scripts/MakeBenchData.java photos|idx OUT_DIR N [SEED]");
            System.exit(2);
        }
        Path out = Path.of(args[1]);
        long n = Long.parseLong(args[2]);
        long seed = args.length > 3 ? Long.parseLong(args[3]) : 0;
        Path fm = Path.of(System.getenv().getOrDefault("FASHION_MNIST", "/usr/share/datasets/fashion-mnist"));
        byte[] pixels = body(fm.resolve("train-images-idx3-ubyte.gz"), 16);
        byte[] labels = body(fm.resolve("train-labels-idx1-ubyte.gz"), 8);
        if (args[0].equals("photos")) {
            photos(out, (int) n, seed, pixels, labels);
        } else {
            idx(out, n, pixels, labels, fm);
        }
    }

    private static void photos(Path out, int n, long seed, byte[] pixels, byte[] labels) throws IOException {
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

    private static void idx(Path out, long n, byte[] images, byte[] labels, Path fm) throws IOException {
        int source = labels.length;
        Files.createDirectories(out);
        StringBuilder log = new StringBuilder("copy dx dy mirrored\n");
        try (DataOutputStream img = open(out.resolve("train-images-idx3-ubyte"));
             DataOutputStream lab = open(out.resolve("train-labels-idx1-ubyte"))) {
            img.writeInt(0x803);
            img.writeInt((int) n);
            img.writeInt(28);
            img.writeInt(28);
            lab.writeInt(0x801);
            lab.writeInt((int) n);
            byte[] one = new byte[784];
            for (long i = 0; i < n; i++) {
                int s = (int) (i % source);
                int k = (int) (i / source);
                Random random = new Random(k);
                int dx = k == 0 ? 0 : random.nextInt(7) - 3;
                int dy = k == 0 ? 0 : random.nextInt(7) - 3;
                boolean mirror = k % 2 == 1;
                if (s == 0) {
                    log.append(k).append(' ').append(dx).append(' ').append(dy).append(' ').append(mirror).append('\n');
                }
                for (int y = 0; y < 28; y++) {
                    for (int x = 0; x < 28; x++) {
                        int sx = (mirror ? 27 - x : x) - dx;
                        int sy = y - dy;
                        one[y * 28 + x] = sx < 0 || sx > 27 || sy < 0 || sy > 27 ? 0 : images[s * 784 + sy * 28 + sx];
                    }
                }
                img.write(one);
                lab.write(labels[s]);
            }
        }
        copyGunzipped(fm.resolve("t10k-images-idx3-ubyte.gz"), out.resolve("t10k-images-idx3-ubyte"));
        copyGunzipped(fm.resolve("t10k-labels-idx1-ubyte.gz"), out.resolve("t10k-labels-idx1-ubyte"));
        Files.writeString(out.resolve("transformations.txt"), log);
        System.err.println("wrote " + n + " train images into " + out);
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

    private static DataOutputStream open(Path file) throws IOException {
        return new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 20));
    }

    private static byte[] body(Path gz, int header) throws IOException {
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(gz), 1 << 16))) {
            byte[] all = in.readAllBytes();
            return java.util.Arrays.copyOfRange(all, header, all.length);
        }
    }

    private static void copyGunzipped(Path gz, Path to) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(gz), 1 << 16);
             OutputStream out = Files.newOutputStream(to)) {
            in.transferTo(out);
        }
    }
}
