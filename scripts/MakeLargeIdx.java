import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPInputStream;

/**
 * Writes a large raw IDX dataset for scale benchmarks (nothing here is committed data): N train images made from
 * Fashion-MNIST's 60,000 by deterministic transformations, and its test split as it is. Image i is source image
 * i mod 60,000 in copy k = i / 60,000; copy 0 is the original, copy k > 0 is shifted by (dx, dy) in [-3, 3] and
 * mirrored when k is odd, with dx, dy drawn from a generator seeded with k (written to transformations.txt).
 * The labels are the source's. Then `coopt data pack --data idx:DIR --out PACK` packs it.
 *
 *   java scripts/MakeLargeIdx.java OUT_DIR N [FASHION_MNIST_DIR]
 */
public class MakeLargeIdx {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: java scripts/MakeLargeIdx.java OUT_DIR N [FASHION_MNIST_DIR]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        long n = Long.parseLong(args[1]);
        Path fm = Path.of(args.length > 2 ? args[2] : "/usr/share/datasets/fashion-mnist");
        byte[] images = body(fm.resolve("train-images-idx3-ubyte.gz"), 16);
        byte[] labels = body(fm.resolve("train-labels-idx1-ubyte.gz"), 8);
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
