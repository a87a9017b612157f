package ai.coopt.cli;

import ai.coopt.engine.CpuFlags;
import ai.coopt.store.OptimizedDataset;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --precision} as a user meets it, with the CPU's flags forced either way (nothing here depends on the machine
 * having bfloat16: the engine emulates it where the CPU lacks it).
 */
class PrecisionCliTest extends ConsoleCapture {
    @AfterEach
    void unforce() {
        System.clearProperty(CpuFlags.PROPERTY);
    }

    @Test
    void bf16OnACpuWithoutItIsOneLineAndExit2() {
        System.setProperty(CpuFlags.PROPERTY, "fpu avx512f");
        assertEquals(2, Main.run("eval", "linear", "--model", "random:convnet-s", "--train", "fashion-mnist", "--test",
                "fashion-mnist", "--limit", "50", "--precision", "bf16"), stderr());
        String e = stderr().strip();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.contains("--precision bf16") && e.contains("avx512_bf16"), e);
        assertEquals("", stdout());
    }

    /** A bf16 optimize records its precision in the manifest and the JSON; auto on such a CPU is the same run. */
    @Test
    void optimizeInBf16RecordsItAndStaysCloseToFp32(@TempDir Path tmp) throws IOException {
        System.setProperty(CpuFlags.PROPERTY, "avx512f avx512_bf16");
        Path fp32 = tmp.resolve("fp32");
        Path bf16 = tmp.resolve("bf16");
        String[] common = {"optimize", "--data", "fashion-mnist", "--limit", "300", "--prior", "random:convnet-s",
                "--dim", "16", "--json"};
        assertEquals(0, Main.run(concat(common, "--out", fp32.toString())), stderr());
        out.reset();
        assertEquals(0, Main.run(concat(common, "--out", bf16.toString(), "--precision", "auto")), stderr());
        JsonNode j = new ObjectMapper().readTree(stdout());
        assertEquals("bf16", j.get("precision").asText());
        OptimizedDataset a = OptimizedDataset.read(fp32);
        OptimizedDataset b = OptimizedDataset.read(bf16);
        assertEquals("fp32", a.provenance().participants().get(0).precision());
        assertEquals("bf16", b.provenance().participants().get(0).precision());
        // PCA's components may flip sign or turn within a near-degenerate pair between two runs, so the two target
        // sets are compared by their Gram matrices (every pair of images' inner product), which do not see that
        double relative = relativeDifference(gram(a.targets()), gram(b.targets()));
        assertTrue(relative < 0.1, "the targets' Gram matrices differ by " + relative);
        assertFalse(relative == 0, "bf16 gave fp32's exact targets");
    }

    /** A bf16 bench times both precisions, each in a block of its own, and says how close the features are. */
    @Test
    void benchInBf16ReportsBothPrecisions() throws IOException {
        System.setProperty(CpuFlags.PROPERTY, "avx512f avx512_bf16");
        assertEquals(0, Main.run("bench", "throughput", "--arch", "resnet-s", "--channels", "3", "--size", "16",
                "--batch", "4", "--steps", "2", "--warmup", "1", "--precision", "bf16", "--json"), stderr());
        JsonNode j = new ObjectMapper().readTree(stdout());
        assertEquals("bf16", j.get("train_precision").asText());
        assertEquals("bf16", j.get("infer_precision").asText());
        for (String key : new String[] {"train_img_per_s", "train_fp32_img_per_s", "infer_img_per_s",
                "infer_fp32_img_per_s"}) {
            assertTrue(j.get(key).asDouble() > 0, key + " in " + j);
        }
        double error = j.get("infer_relative_error").asDouble();
        assertTrue(error > 0 && error < 0.05, "bf16 features against fp32's: " + error);
    }

    private static double[] gram(ai.coopt.store.Rows rows) {
        int n = rows.count();
        int d = rows.dim();
        float[] v = new float[n * d];
        rows.read(0, n, v, 0);
        double[] g = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) {
                    s += v[i * d + k] * (double) v[j * d + k];
                }
                g[i * n + j] = s;
            }
        }
        return g;
    }

    private static double relativeDifference(double[] x, double[] y) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < x.length; i++) {
            num += (x[i] - y[i]) * (x[i] - y[i]);
            den += x[i] * x[i];
        }
        return Math.sqrt(num / den);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
