package ai.coopt.data;

import ai.coopt.dataset.DatasetSpec;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Writes an IDX folder (train and t10k) of random square images with labels 0..9, for tests of later phases. */
public final class SyntheticIdx {
    private SyntheticIdx() {}

    /** {@code n} random {@code size}×{@code size} images per split, from {@code seed}; returns the {@code idx:DIR} spec. */
    public static DatasetSpec write(Path dir, int n, int size, long seed) throws IOException {
        Files.createDirectories(dir);
        Random rng = new Random(seed);
        for (String split : new String[] {"train", "t10k"}) {
            try (OutputStream f = Files.newOutputStream(dir.resolve(split + "-images-idx3-ubyte"));
                 DataOutputStream out = new DataOutputStream(f)) {
                out.writeInt(0x803);
                out.writeInt(n);
                out.writeInt(size);
                out.writeInt(size);
                byte[] px = new byte[n * size * size];
                rng.nextBytes(px);
                out.write(px);
            }
            try (OutputStream f = Files.newOutputStream(dir.resolve(split + "-labels-idx1-ubyte"));
                 DataOutputStream out = new DataOutputStream(f)) {
                out.writeInt(0x801);
                out.writeInt(n);
                for (int i = 0; i < n; i++) {
                    out.writeByte(i % 10);
                }
            }
        }
        return DatasetSpec.parse("idx:" + dir);
    }
}
