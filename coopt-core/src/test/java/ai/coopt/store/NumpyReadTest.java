package ai.coopt.store;

import ai.coopt.optimize.Matrix;
import ai.coopt.store.ManifestProvenance.Created;
import ai.coopt.store.ManifestProvenance.Input;
import ai.coopt.store.ManifestProvenance.Participant;
import ai.coopt.store.ManifestProvenance.Postprocess;
import ai.coopt.store.ManifestProvenance.Shard;
import ai.coopt.store.ManifestProvenance.Source;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * An optimized dataset is readable without this project's code: {@code scripts/read_optimized_dataset.py}
 * parses it with the Python standard library and numpy only. Needs a python3 with numpy; without one the test
 * is skipped, except under CI (environment variable {@code CI} set), where it fails.
 */
class NumpyReadTest {
    private static final int COUNT = 50;
    private static final int DIM = 8;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String python;

    @TempDir
    Path root;

    @BeforeAll
    static void findPython() throws InterruptedException {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            if (importsNumpy(candidate)) {
                python = candidate;
                return;
            }
        }
        String message = "no python3 that can import numpy (tried /usr/bin/python3 and python3 on PATH)";
        if (System.getenv("CI") != null) {
            fail(message + "; CI must install python3-numpy");
        }
        Assumptions.abort(message + "; skipping the numpy read check");
    }

    private static boolean importsNumpy(String candidate) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(candidate, "-c", "import numpy")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** 50 × 8 rows, each column shifted and scaled to mean 0 and (population) standard deviation 1. */
    private static float[] standardised() {
        Random random = new Random(7);
        double[] x = new double[COUNT * DIM];
        for (int i = 0; i < x.length; i++) {
            x[i] = 5 + 3 * random.nextGaussian();
        }
        float[] out = new float[x.length];
        for (int d = 0; d < DIM; d++) {
            double mean = 0;
            for (int n = 0; n < COUNT; n++) {
                mean += x[n * DIM + d] / COUNT;
            }
            double variance = 0;
            for (int n = 0; n < COUNT; n++) {
                variance += Math.pow(x[n * DIM + d] - mean, 2) / COUNT;
            }
            for (int n = 0; n < COUNT; n++) {
                out[n * DIM + d] = (float) ((x[n * DIM + d] - mean) / Math.sqrt(variance));
            }
        }
        return out;
    }

    private Path writeDataset() {
        long[] ids = new long[COUNT];
        for (int i = 0; i < COUNT; i++) {
            ids[i] = 10 + 2L * i;
        }
        ManifestProvenance provenance = new ManifestProvenance(
                new Source("mnist", "train", 200, "0".repeat(64)),
                new Postprocess(DIM, 0.9, true),
                List.of(new Participant("random:convnet-s:0", "random", "1".repeat(64), new Input(1, 28, 28, List.of(0.5), List.of(0.25), "1x28x28 -> 1x28x28: normalised"), 128,
                        -2.0, 1000, new Shard(COUNT, 10, 108))),
                null,
                new Created(Instant.parse("2025-01-31T12:00:00Z"), "test", List.of("coopt", "optimize"), 0));
        Path dir = root.resolve("data");
        OptimizedDataset.write(dir, new Matrix(standardised(), COUNT, DIM), ids, provenance);
        return dir;
    }

    /** What the script printed, and its exit code. */
    private record Result(int exit, String stdout, String stderr) {}

    private Result runScript(Path dir) throws IOException, InterruptedException {
        return runScript("scripts/read_optimized_dataset.py", dir);
    }

    private Result runScript(String relative, Path dir) throws IOException, InterruptedException {
        Path script = repositoryRoot().resolve(relative);
        Path out = root.resolve("stdout.txt");
        Path err = root.resolve("stderr.txt");
        Process p = new ProcessBuilder(python, script.toString(), dir.toString())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(script + " did not finish within 120 s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void numpyReadsAPackWithoutProjectCode() throws IOException, InterruptedException {
        Random random = new Random(3);
        int n = 37;
        byte[] pixels = new byte[n * 3 * 6 * 5];
        random.nextBytes(pixels);
        int[] labels = new int[n];
        long pixelSum = 0;
        long labelSum = 0;
        for (byte b : pixels) {
            pixelSum += b & 0xff;
        }
        for (int i = 0; i < n; i++) {
            labels[i] = random.nextInt(10);
            labelSum += labels[i];
        }
        Path dir = root.resolve("pack");
        PackedImages.write(dir, new ai.coopt.data.ImageSet("synthetic:train", pixels, n, 3, 6, 5, labels), "synthetic",
                "train", 10, new Created(Instant.parse("2025-01-31T12:00:00Z"), "test", List.of("coopt"), 0),
                ai.coopt.util.ProgressListener.NONE);
        Result r = runScript("scripts/read_packed_images.py", dir);
        assertEquals(0, r.exit(), r.stderr());
        com.fasterxml.jackson.databind.JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.stdout());
        assertEquals(n, j.get("count").asInt());
        assertEquals(4, j.get("shards").asInt());
        assertEquals(pixelSum, j.get("pixel_sum").asLong());
        assertEquals(labelSum, j.get("label_sum").asLong());
        assertTrue(j.get("sha256_ok").asBoolean());
        assertTrue(j.get("ids_in_order").asBoolean());
    }

    /** The nearest folder above the working directory that holds the script. */
    private static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("scripts/read_optimized_dataset.py"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no scripts/read_optimized_dataset.py above " + Path.of("").toAbsolutePath());
    }

    @Test
    void numpyReadsWhatJavaWrote() throws IOException, InterruptedException {
        Result result = runScript(writeDataset());
        assertEquals(0, result.exit(), result.stderr());
        JsonNode json = JSON.readTree(result.stdout());
        assertEquals(COUNT, json.get("count").asInt());
        assertEquals(DIM, json.get("dim").asInt());
        assertEquals("float32", json.get("targets_dtype").asText());
        assertEquals("int64", json.get("ids_dtype").asText());
        assertTrue(json.get("finite").asBoolean());
        assertTrue(json.get("sha256_ok").asBoolean());
        assertEquals(0, json.get("mean_abs_max").asDouble(), 1e-3);
        assertEquals(1, json.get("std_min").asDouble(), 1e-3);
        assertEquals(1, json.get("std_max").asDouble(), 1e-3);
        assertEquals(10, json.get("ids_first").asLong());
        assertEquals(108, json.get("ids_last").asLong());
    }

    @Test
    void numpyNoticesAModifiedFile() throws IOException, InterruptedException {
        Path dir = writeDataset();
        Path file = dir.resolve("targets.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 1;
        Files.write(file, bytes);
        Result result = runScript(dir);
        assertEquals(1, result.exit(), result.stdout());
        assertFalse(JSON.readTree(result.stdout()).get("sha256_ok").asBoolean());
        assertTrue(result.stderr().contains("does not match the sha256"), result.stderr());
    }
}
