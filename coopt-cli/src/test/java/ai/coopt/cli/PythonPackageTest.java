package ai.coopt.cli;

import ai.coopt.data.ImageSet;
import ai.coopt.data.Subset;
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

    /**
     * {@code optimize --limit 300} draws 300 of Fashion-MNIST's 60000 training images, so its ids are sparse indices
     * of the whole split. Python reads its targets and ids as Java does; pairs them with a pack made with the same
     * {@code --limit} (the same fingerprint) and with a pack of the whole split, and both give the same items; and
     * Python's own draw from the split's labels (read from the IDX file) has the ids and sha256 the manifest records.
     */
    @Test
    void pythonReadsWhatTheCommandLineWrote() throws IOException, InterruptedException {
        Path fashion = Path.of("/usr/share/datasets/fashion-mnist");
        assumeTrue(Files.isDirectory(fashion), "Fashion-MNIST is not installed");
        Path opt = tmp.resolve("opt");
        Path pack = tmp.resolve("pack");
        Path whole = tmp.resolve("whole");
        assertEquals(0, Main.run("optimize", "--data", "fashion-mnist", "--limit", "300", "--prior", "random:convnet-s",
                "--out", opt.toString(), "--dim", "16"), stderr());
        assertEquals(0, Main.run("data", "pack", "--data", "fashion-mnist", "--limit", "300", "--shard-images", "128",
                "--out", pack.toString()), stderr());
        assertEquals(0, Main.run("data", "pack", "--data", "fashion-mnist", "--shard-images", "16384",
                "--out", whole.toString()), stderr());
        Path labels = fashion.resolve("train-labels-idx1-ubyte.gz");
        assumeTrue(Files.isRegularFile(labels), labels + " is missing");

        Path root = repositoryRoot();
        Result r = run(List.of(PYTHON, "python/tests/interop_check.py", opt.toString(), pack.toString(),
                whole.toString(), "--idx-labels", labels.toString()), root);
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
        assertTrue(java.util.Arrays.stream(ids).max().orElseThrow() >= ids.length, "the ids index the whole split");
        assertEquals(60000, j.get("source_total").asInt());
        Subset subset = data.provenance().source().subset();
        assertEquals(300, subset.limit());
        assertEquals(60000, subset.of());
        assertEquals(subset.idsSha256(), j.get("ids_sha256").asText(), "the manifest's sha256 of the ids");
        JsonNode drawn = j.get("draw");
        assertEquals(60000, drawn.get("of").asInt());
        assertTrue(drawn.get("equals_ids").asBoolean(), "Python's draw from the IDX labels is the manifest's ids");
        assertEquals(subset.idsSha256(), drawn.get("ids_sha256").asText());
        assertSubset(subset, drawn.get("subset"), "Python's record of its draw");

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

        JsonNode drawnPack = j.get("packs").get(0);
        JsonNode wholePack = j.get("packs").get(1);
        assertEquals(data.provenance().source().fingerprint(), drawnPack.get("fingerprint").asText());
        assertEquals(j.get("fingerprint").asText(), drawnPack.get("fingerprint").asText());
        assertTrue(!wholePack.get("fingerprint").asText().equals(j.get("fingerprint").asText()), wholePack.toString());
        assertSubset(subset, drawnPack.get("subset"), "the pack records the same draw");
        assertTrue(wholePack.get("subset").isNull(), wholePack.toString());
        assertEquals(60000, wholePack.get("count").asInt());
        assertEquals(60000, drawnPack.get("id_bound").asInt());
        long[] idsSorted = ids.clone();
        java.util.Arrays.sort(idsSorted);
        for (int i = 0; i < drawnPack.get("ids_first").size(); i++) {
            assertEquals(idsSorted[i], drawnPack.get("ids_first").get(i).asLong(), "the drawn pack's ids");
        }
        long[] idPixels = new long[2];
        long[] idLabels = new long[2];
        for (int p = 0; p < 2; p++) {
            JsonNode py = j.get("packs").get(p);
            Path dir = p == 0 ? pack : whole;
            ImageSet images = PackedImages.open(dir, "train", 0, "packed:" + dir, ProgressListener.NONE);
            assertEquals(images.count(), py.get("count").asInt(), dir.toString());
            assertEquals(List.of(images.channels(), images.height(), images.width()),
                    List.of(py.get("shape").get(0).asInt(), py.get("shape").get(1).asInt(), py.get("shape").get(2).asInt()));
            byte[] image = new byte[images.imageSize()];
            long pixelSum = 0;
            for (int i = 0; i < images.count(); i++) {
                images.readImage(i, image, 0);
                for (byte b : image) {
                    pixelSum += b & 0xff;
                }
            }
            assertEquals(pixelSum, py.get("pixel_sum").asLong(), dir.toString());
            long labelSum = 0;
            for (int label : images.labels()) {
                labelSum += label;
            }
            assertEquals(labelSum, py.get("label_sum").asLong(), dir.toString());
            // the images of the target ids, looked up by id as Java does
            for (int at : images.positionsOf(ids)) {
                images.readImage(at, image, 0);
                for (byte b : image) {
                    idPixels[p] += b & 0xff;
                }
                idLabels[p] += images.labels()[at];
            }
        }
        assertEquals(idPixels[0], idPixels[1], "both packs hold the same images for the ids");

        if (j.get("packs").get(0).get("torch").isNull()) {
            if (System.getenv("CI") != null) {
                fail(PYTHON + " cannot import torch; CI must install python3-torch");
            }
            System.err.println("PythonPackageTest: torch is not installed; the Dataset part was not checked");
            return;
        }
        for (int p = 0; p < 2; p++) {
            JsonNode torch = j.get("packs").get(p).get("torch");
            assertEquals(ids.length, torch.get("items").asInt());
            assertEquals(idPixels[p], torch.get("image_sum").asDouble(), 0.5);
            assertEquals(idLabels[p], torch.get("label_sum").asLong());
            assertEquals(targetsSum, torch.get("targets_sum").asDouble(), 1e-6 * targets.length);
            assertEquals(List.of(1, 28, 28), List.of(torch.get("item_shape").get(0).asInt(),
                    torch.get("item_shape").get(1).asInt(), torch.get("item_shape").get(2).asInt()));
        }
        assertEquals(j.get("packs").get(0).get("torch").get("items_sha256").asText(),
                j.get("packs").get(1).get("torch").get("items_sha256").asText(),
                "a pack of the same draw and a pack of the whole split give the same (image, target) items");
    }

    private static void assertSubset(Subset expected, JsonNode actual, String what) {
        assertEquals(List.of(expected.limit(), expected.seed(), expected.of(), expected.stratified(), expected.idsSha256()),
                List.of(actual.get("limit").asInt(), actual.get("seed").asLong(), actual.get("of").asInt(),
                        actual.get("stratified").asBoolean(), actual.get("ids_sha256").asText()), what + ": " + actual);
    }

    /**
     * A folder of PNG and JPEG files of several sizes: Python lists it as {@code folder:DIR} does (same count, labels,
     * channels), its pixels are the pack's within one level (Java2D's bilinear resize and Pillow's decoders against
     * Java's), and TargetsDataset pairs the folder with an optimized dataset made from it at the recorded size, and
     * with one made with {@code --limit 5 --limit-seed 3}: Python's draw of the folder is Java's (ids and sha256).
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

        Path limited = tmp.resolve("limited");
        assertEquals(0, Main.run("optimize", "--data", "folder:" + folder, "--image-size", "16", "--limit", "5",
                "--limit-seed", "3", "--prior", "random:convnet-s", "--dim", "4", "--out", limited.toString()), stderr());
        Result r = run(List.of(PYTHON, "python/tests/folder_check.py", folder.toString(), pack.toString(),
                opt.toString(), limited.toString()), repositoryRoot());
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
            JsonNode l = j.get("limited");
            OptimizedDataset drawn = OptimizedDataset.read(limited);
            long[] ids = drawn.ids().clone();
            java.util.Arrays.sort(ids);
            assertEquals(5, l.get("items").asInt(), l.toString());
            assertEquals(java.util.Arrays.toString(ids), l.get("folder_ids").toString().replace(",", ", "), l.toString());
            assertSubset(drawn.provenance().source().subset(), l.get("folder_subset"), "Python's draw of the folder");
            assertTrue(l.get("same_items").asBoolean(), l.toString());
            assertEquals(3, java.util.stream.StreamSupport.stream(l.get("labels").spliterator(), false)
                    .map(JsonNode::asInt).distinct().count(), "the draw is stratified: every class: " + l);
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
            // unittest's verdict line ("OK (skipped=N)") and each skipped test's "... skipped 'reason'", not a test's name
            assertTrue(!r.stderr().contains("(skipped=") && !r.stderr().contains("... skipped"),
                    "CI must run every Python test (install python3-torch and "
                    + "python3-pil):\n" + r.stderr());
        }
    }
}
