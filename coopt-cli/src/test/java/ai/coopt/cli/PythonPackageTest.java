package ai.coopt.cli;

import ai.coopt.data.ImageSet;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.PackedImages;
import ai.coopt.store.RowFile;
import ai.coopt.util.ProgressListener;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A PyTorch user reuses the data: the Python package in {@code python/} (run from the source tree through
 * PYTHONPATH, no installation) reads an optimized dataset and a packed directory that the command line wrote, and
 * finds the ids, targets, images and labels Java reads; then its own test suite runs. Needs a python3 with numpy
 * (torch and Pillow for the Dataset and folder parts); without numpy the test is skipped, except under CI
 * (environment variable {@code CI} set), where it fails, as it does when torch is missing there.
 */
class PythonPackageTest extends ConsoleCapture {
    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path tmp;

    @BeforeAll
    static void needsNumpy() throws IOException, InterruptedException {
        if (run(List.of(PYTHON, "-c", "import numpy"), null).exit() != 0) {
            String message = PYTHON + " cannot import numpy";
            if (System.getenv("CI") != null) {
                fail(message + "; CI must install python3-numpy (and python3-torch, python3-pil)");
            }
            Assumptions.abort(message + "; skipping the Python package checks");
        }
    }

    private record Result(int exit, String stdout, String stderr) {}

    private static Result run(List<String> command, Path dir) throws IOException, InterruptedException {
        Path out = Files.createTempFile("python", ".out");
        Path err = Files.createTempFile("python", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            if (dir != null) {
                builder.directory(dir.toFile());
                builder.environment().put("PYTHONPATH", dir.resolve("python").toString());
            }
            builder.environment().put("OMP_NUM_THREADS", "1");
            Process p = builder.start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(command + " did not finish within 300 s");
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The nearest folder above the working directory that holds the package. */
    private static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("python/coopt/__init__.py"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no python/coopt/__init__.py above " + Path.of("").toAbsolutePath());
    }

    @Test
    void pythonReadsWhatTheCommandLineWrote() throws IOException, InterruptedException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Path opt = tmp.resolve("opt");
        Path pack = tmp.resolve("pack");
        assertEquals(0, Main.run("optimize", "--data", "fashion-mnist", "--limit", "300", "--prior", "random:convnet-s",
                "--out", opt.toString(), "--dim", "16"), stderr());
        assertEquals(0, Main.run("data", "pack", "--data", "fashion-mnist", "--limit", "300", "--shard-images", "128",
                "--out", pack.toString()), stderr());

        Path root = repositoryRoot();
        Result r = run(List.of(PYTHON, "python/tests/interop_check.py", opt.toString(), pack.toString()), root);
        assertEquals(0, r.exit(), r.stderr());
        JsonNode j = new ObjectMapper().readTree(r.stdout());

        OptimizedDataset data = OptimizedDataset.read(opt);
        assertEquals(data.count(), j.get("count").asInt());
        assertEquals(data.dim(), j.get("dim").asInt());
        long[] ids = data.ids();
        assertEquals(ids.length, j.get("ids").size());
        for (int i = 0; i < ids.length; i++) {
            assertEquals(ids[i], j.get("ids").get(i).asLong(), "ids[" + i + "]");
        }
        float[] targets = new float[data.count() * data.dim()];
        try (RowFile rows = data.targets()) {
            rows.read(0, data.count(), targets, 0);
        }
        double targetsSum = 0;
        for (float v : targets) {
            targetsSum += v;
        }
        assertEquals(targetsSum, j.get("targets_sum").asDouble(), 1e-6 * targets.length);
        for (int d = 0; d < data.dim(); d++) {
            assertEquals(targets[d], (float) j.get("targets_first_row").get(d).asDouble(), "targets[0][" + d + "]");
        }

        ImageSet images = PackedImages.open(pack, "train", 0, "packed:" + pack, ProgressListener.NONE);
        assertEquals(data.provenance().source().fingerprint(), j.get("pack_fingerprint").asText());
        assertEquals(j.get("fingerprint").asText(), j.get("pack_fingerprint").asText());
        assertEquals(images.count(), j.get("pack_count").asInt());
        assertEquals(List.of(images.channels(), images.height(), images.width()),
                List.of(j.get("pack_shape").get(0).asInt(), j.get("pack_shape").get(1).asInt(),
                        j.get("pack_shape").get(2).asInt()));
        long pixelSum = 0;
        byte[] image = new byte[images.imageSize()];
        for (int i = 0; i < images.count(); i++) {
            images.readImage(i, image, 0);
            for (byte b : image) {
                pixelSum += b & 0xff;
            }
        }
        assertEquals(pixelSum, j.get("pixel_sum").asLong());
        long labelSum = 0;
        for (int label : images.labels()) {
            labelSum += label;
        }
        assertEquals(labelSum, j.get("label_sum").asLong());

        JsonNode torch = j.get("torch");
        if (torch.isNull()) {
            if (System.getenv("CI") != null) {
                fail(PYTHON + " cannot import torch; CI must install python3-torch");
            }
            System.err.println("PythonPackageTest: torch is not installed; the Dataset part was not checked");
            return;
        }
        // every id is the pack's image of that index: the items' pixels add up to the pack's for the ids
        long idPixels = 0;
        for (long id : ids) {
            images.readImage((int) id, image, 0);
            for (byte b : image) {
                idPixels += b & 0xff;
            }
        }
        assertEquals(ids.length, torch.get("items").asInt());
        assertEquals(idPixels, torch.get("image_sum").asDouble(), 0.5);
        assertEquals(targetsSum, torch.get("targets_sum").asDouble(), 1e-6 * targets.length);
        assertEquals(List.of(1, 28, 28), List.of(torch.get("item_shape").get(0).asInt(),
                torch.get("item_shape").get(1).asInt(), torch.get("item_shape").get(2).asInt()));
    }

    /**
     * A folder of PNG and JPEG files of several sizes: Python lists it as {@code folder:DIR} does (same count, labels,
     * channels), its pixels are the pack's within one level (Java2D's bilinear resize and Pillow's decoders against
     * Java's), and TargetsDataset pairs the folder with an optimized dataset made from it at the recorded size.
     */
    @Test
    void pythonReadsAFolderAsJavaDoes() throws IOException, InterruptedException {
        Path folder = tmp.resolve("photos");
        int[][] sizes = {{40, 30}, {100, 70}, {200, 300}, {33, 47}, {640, 480}, {29, 29}};
        java.util.Random random = new java.util.Random(5);
        for (int i = 0; i < 12; i++) {
            int w = sizes[i % sizes.length][0];
            int h = sizes[i % sizes.length][1];
            java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(w, h,
                    java.awt.image.BufferedImage.TYPE_INT_RGB);
            int cx = random.nextInt(w);
            int cy = random.nextInt(h);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int r = (x * 255 / w + random.nextInt(30)) & 0xff;
                    int g = (y * 255 / h) & 0xff;
                    int b = (Math.abs(x - cx) + Math.abs(y - cy) < Math.min(w, h) / 3 ? 220 : 30) + random.nextInt(20);
                    image.setRGB(x, y, (r << 16) | (g << 8) | b);
                }
            }
            String format = i % 2 == 0 ? "png" : "jpg";
            Path file = folder.resolve("class" + (i % 3)).resolve("img" + i + "." + format);
            Files.createDirectories(file.getParent());
            assertTrue(javax.imageio.ImageIO.write(image, format, file.toFile()), format);
        }
        Path pack = tmp.resolve("pack");
        Path opt = tmp.resolve("opt");
        assertEquals(0, Main.run("data", "pack", "--data", "folder:" + folder, "--image-size", "16", "--out",
                pack.toString()), stderr());
        assertEquals(0, Main.run("optimize", "--data", "folder:" + folder, "--image-size", "16", "--prior",
                "random:convnet-s", "--dim", "4", "--out", opt.toString()), stderr());

        Result r = run(List.of(PYTHON, "python/tests/folder_check.py", folder.toString(), pack.toString(),
                opt.toString()), repositoryRoot());
        assertEquals(0, r.exit(), r.stderr());
        JsonNode j = new ObjectMapper().readTree(r.stdout());
        assertEquals(12, j.get("count").asInt(), j.toString());
        assertEquals(12, j.get("pack_count").asInt(), j.toString());
        assertEquals(3, j.get("channels").asInt(), j.toString());
        assertEquals(3, j.get("pack_channels").asInt(), j.toString());
        assertTrue(j.get("labels_equal").asBoolean(), j.toString());
        assertTrue(j.get("max_difference").asInt() <= 1, j.toString());
        assertTrue(j.get("values_differing").asDouble() <= 0.02 * j.get("values").asDouble(), j.toString());
        if (!j.get("dataset_items").isNull()) {
            assertEquals(12, j.get("dataset_items").asInt(), j.toString());
            assertEquals("[3,16,16]", j.get("dataset_shape").toString(), j.toString());
        }
    }

    @Test
    void thePackagesOwnTestsPass() throws IOException, InterruptedException {
        Path root = repositoryRoot();
        List<String> command = new ArrayList<>(List.of(PYTHON, "-m", "unittest", "discover", "-s", "python/tests", "-v"));
        Result r = run(command, root);
        assertEquals(0, r.exit(), r.stdout() + r.stderr());
        // unittest reports on stderr: "OK" or "OK (skipped=N)"
        assertTrue(r.stderr().contains("\nOK"), r.stderr());
        if (System.getenv("CI") != null) {
            assertTrue(!r.stderr().contains("skipped"), "CI must run every Python test (install python3-torch and "
                    + "python3-pil):\n" + r.stderr());
        }
    }
}
