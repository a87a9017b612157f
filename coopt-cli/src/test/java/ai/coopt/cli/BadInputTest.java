package ai.coopt.cli;

import ai.coopt.nn.Network;
import ai.coopt.store.Checksums;
import ai.coopt.store.ModelDirectory;
import ai.coopt.store.SafeTensors;
import ai.coopt.store.Tensor;
import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Regression tests for the bad-input defects of issue 9: each failed before its fix. The contract is the
 * one every command keeps: bad input gets one line on stderr and exit 2, no stack trace, nothing already
 * written is damaged.
 */
class BadInputTest extends ConsoleCapture {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private void assertUserError(String expectedFragment, String... args) {
        resetConsole();
        int code = Main.run(args);
        String e = stderr().strip();
        assertEquals(2, code, e);
        assertEquals(1, e.lines().count(), "expected one line, got:\n" + e);
        assertTrue(e.startsWith("coopt: "), e);
        assertTrue(e.contains(expectedFragment), "expected '" + expectedFragment + "' in: " + e);
        assertFalse(e.contains("\tat "), e);
        assertEquals("", stdout());
    }

    private static void assertOneLineUserError(CooptProcess.Result r, String expectedFragment) {
        assertFalse(r.timedOut(), "the command did not end within its time limit; stderr:\n" + r.stderr());
        String e = r.stderr().strip();
        assertEquals(2, r.exit(), e);
        assertEquals(1, e.lines().count(), "expected one line, got:\n" + e);
        assertTrue(e.contains(expectedFragment), "expected '" + expectedFragment + "' in: " + e);
    }

    private static void requireFashionMnist() {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
    }

    private static Map<String, String> digests(Path dir) throws IOException {
        Map<String, String> out = new java.util.TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(f).toString(), Checksums.sha256(f));
            }
        }
        return out;
    }

    private static void png(Path file, int width, int height) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y += Math.max(1, height / 64)) {
            for (int x = 0; x < width; x += Math.max(1, width / 64)) {
                image.setRGB(x, y, (x * 31 + y * 17) & 0xffffff);
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
    }

    /** A convnet-s model directory for 1×28×28 inputs. */
    private static Path model(Path dir, String arch) {
        try (Network net = Network.create(arch, 1, 28, 28, 3, Device.cpu())) {
            ModelDirectory.write(dir, net, new float[] {0.5f}, new float[] {0.25f}, "random-init", JSON.createObjectNode());
        }
        return dir;
    }

    /** Rewrites a model directory's weights and description, then records the new weights' checksum. */
    private static void tamper(Path dir, Consumer<LinkedHashMap<String, Tensor>> weights, Consumer<ObjectNode> description)
            throws IOException {
        Path file = dir.resolve(ModelDirectory.WEIGHTS_FILE);
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>(SafeTensors.read(file).tensors());
        weights.accept(tensors);
        SafeTensors.write(file, tensors, Map.of());
        ObjectNode json = (ObjectNode) JSON.readTree(dir.resolve(ModelDirectory.MODEL_JSON).toFile());
        description.accept(json);
        ((ObjectNode) json.get("weights")).put("sha256", Checksums.sha256(file));
        Files.writeString(dir.resolve(ModelDirectory.MODEL_JSON), JSON.writeValueAsString(json));
    }

    /** An optimized dataset of 200 Fashion-MNIST images in tmp/opt. */
    private Path smallDataset() {
        requireFashionMnist();
        Path opt = tmp.resolve("opt");
        assertEquals(0, Main.run("optimize", "--data", "fashion-mnist", "--limit", "200", "--prior", "random:convnet-s:1",
                "--dim", "8", "--out", opt.toString()), stderr());
        return opt;
    }

    private static String firstTensor(Map<String, Tensor> tensors) {
        return tensors.keySet().iterator().next();
    }

    // 1. --out must never replace what is not provably ours

    @Test
    void outWithSomeoneElsesManifestIsLeftAlone() throws IOException {
        requireFashionMnist();
        Path w = Files.createDirectory(tmp.resolve("w"));
        Files.writeString(w.resolve("manifest.json"), "{\"name\":\"app\"}");
        Files.writeString(w.resolve("index.html"), "x");
        Map<String, String> before = digests(w);
        assertUserError("refusing to replace", "optimize", "--data", "fashion-mnist", "--limit", "200", "--prior",
                "random:convnet-s:1", "--out", w.toString());
        assertEquals(before, digests(w));
        assertUserError("refusing to replace", "collab", "--data", "fashion-mnist", "--limit", "300", "--priors",
                "random:convnet-s:1,random:convnet-s:2", "--out", w.toString());
        assertEquals(before, digests(w));
    }

    @Test
    void filesAUserAddedToADatasetAreNeverDeleted() throws IOException {
        Path opt = smallDataset();
        Files.writeString(opt.resolve("NOTES.md"), "my notes");
        Map<String, String> before = digests(opt);
        assertUserError("NOTES.md", "optimize", "--data", "fashion-mnist", "--limit", "200", "--prior",
                "random:convnet-s:2", "--dim", "8", "--out", opt.toString());
        assertEquals(before, digests(opt));
        // without the user's file, our own dataset is replaced as before
        Files.delete(opt.resolve("NOTES.md"));
        resetConsole();
        assertEquals(0, Main.run("optimize", "--data", "fashion-mnist", "--limit", "200", "--prior", "random:convnet-s:2",
                "--dim", "8", "--out", opt.toString()), stderr());
    }

    @Test
    void symlinkedOutIsRefusedBeforeAnyWork() throws IOException {
        Path real = Files.createDirectory(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        // no progress line may come before the refusal: assertUserError demands exactly one line
        assertUserError("symbolic link", "optimize", "--data", "fashion-mnist", "--limit", "200", "--prior",
                "random:convnet-s:1", "--out", link.toString());
        assertUserError("symbolic link", "collab", "--data", "fashion-mnist", "--limit", "300", "--priors",
                "random:convnet-s:1,random:convnet-s:2", "--out", link.toString());
    }

    // 2. absurd thread counts

    @Test
    void threadsBeyondTheMachineAreRefused() throws Exception {
        CooptProcess.Result r = CooptProcess.run(90, null, Map.of(), tmp, "bench", "throughput", "--arch", "convnet-s",
                "--batch", "2", "--steps", "1", "--warmup", "0", "--threads", "100000");
        assertOneLineUserError(r, "--threads");
    }

    // 3. no input size may kill the process without a line

    @Test
    void hugeAndTinyImagesInOneFolderEndInOneLine() throws Exception {
        Path folder = tmp.resolve("photos");
        png(folder.resolve("a-big.png"), 3000, 3000);
        png(folder.resolve("b-dot.png"), 1, 1);
        for (int i = 0; i < 3; i++) {
            png(folder.resolve("c-small-" + i + ".png"), 28, 28);
        }
        // a 10 GB address-space limit stands in for a smaller machine: the process must explain, not die
        // (folder images are now resized to --image-size, 64 by default; asking for 3000 recreates the defect's case)
        CooptProcess.Result r = CooptProcess.run(300, "ulimit -v 10000000;", Map.of(), tmp, "optimize",
                "--data", "folder:" + folder, "--image-size", "3000", "--prior", "random:convnet-s:1",
                "--out", tmp.resolve("o").toString());
        assertOneLineUserError(r, "coopt: ");
        assertFalse(Files.exists(tmp.resolve("o")));
    }

    // 4. inputs smaller than an architecture can take

    @Test
    void oneByOneImagesAreRefusedUpFront() throws IOException {
        Path folder = tmp.resolve("dots");
        for (int i = 0; i < 3; i++) {
            png(folder.resolve("dot-" + i + ".png"), 1, 1);
        }
        assertUserError("1x1", "optimize", "--data", "folder:" + folder, "--image-size", "1", "--prior",
                "random:convnet-s:1", "--out", tmp.resolve("o").toString());
        assertUserError("1x1", "train", "--method", "byol", "--data", "folder:" + folder, "--image-size", "1", "--arch", "convnet-s",
                "--epochs", "1", "--batch", "2", "--out", tmp.resolve("t").toString());
        assertFalse(Files.exists(tmp.resolve("t")));
        assertUserError("1x1", "bench", "throughput", "--arch", "convnet-s", "--size", "1", "--batch", "2",
                "--steps", "1", "--warmup", "0");
    }

    @Test
    void nextRoundAndDownloadRefuseBadInputInOneLine() throws IOException {
        assertUserError("is not a platform directory", "platform", "next-round", "--dir", tmp.resolve("none").toString());
        assertUserError("is not a platform directory", "platform", "revoke", "--dir", tmp.resolve("none").toString(),
                "--participant", "p-x", "--reason", "r");
        assertUserError("--reason must be 1 to 300 printable characters", "platform", "revoke", "--dir",
                tmp.resolve("none").toString(), "--participant", "p-x", "--reason", " ");
        assertFalse(Files.exists(tmp.resolve("none")), "nothing is created");
        assertUserError("--round must be at least 1", "platform", "download", "--platform", "http://127.0.0.1:1", "--round", "0",
                "--out", tmp.resolve("o").toString());
        assertUserError("--round", "platform", "download", "--platform", "http://127.0.0.1:1", "--round", "two",
                "--out", tmp.resolve("o").toString());
    }

    @Test
    void platformLoadRefusesContradictoryOrUnsafeOptionsBeforeStartingAnything() throws IOException {
        Path work = tmp.resolve("work");
        assertUserError("either --platform", "bench", "platform-load", "--dir", tmp.resolve("d").toString(), "--work",
                work.toString());
        assertUserError("either --platform", "bench", "platform-load", "--dir", tmp.resolve("d").toString(), "--work",
                work.toString(), "--servers", "2", "--platform", "http://127.0.0.1:1");
        assertUserError("--dim", "bench", "platform-load", "--dir", tmp.resolve("d").toString(), "--work",
                work.toString(), "--servers", "1", "--dim", "4");
        Path used = Files.createDirectories(tmp.resolve("used"));
        Files.writeString(used.resolve("NOTES.md"), "mine");
        assertUserError("not an empty directory", "bench", "platform-load", "--dir", used.toString(), "--work",
                work.toString(), "--servers", "2");
        assertTrue(Files.exists(used.resolve("NOTES.md")));
        assertFalse(Files.exists(work.resolve("logs")), "no server was started");
    }

    // 5. a declared input no machine can hold

    @Test
    void hugeDeclaredInputIsRefused() throws IOException {
        requireFashionMnist();
        Path m = model(tmp.resolve("m"), "convnet-s");
        tamper(m, t -> {}, j -> {
            ((ObjectNode) j.get("input")).put("height", 100000);
            ((ObjectNode) j.get("input")).put("width", 100000);
        });
        assertUserError("100000", "optimize", "--data", "fashion-mnist", "--limit", "100", "--prior", "model:" + m,
                "--out", tmp.resolve("o").toString());
        assertUserError("100000", "eval", "linear", "--model", "model:" + m, "--train", "fashion-mnist",
                "--test", "fashion-mnist", "--limit", "100");
    }

    // 6. non-finite weights

    @Test
    void nanWeightsAreRefusedOnLoad() throws IOException {
        requireFashionMnist();
        Path m = model(tmp.resolve("m"), "convnet-s");
        tamper(m, t -> ((Tensor.F32) t.get(firstTensor(t))).data()[0] = Float.NaN, j -> {});
        assertUserError("not finite", "eval", "linear", "--model", "model:" + m, "--train", "fashion-mnist",
                "--test", "fashion-mnist", "--limit", "100", "--epochs", "3");
    }

    // 7. inspect validates a model directory as loading does

    @Test
    void inspectRefusesBrokenModelDirectories() throws IOException {
        Path ok = model(tmp.resolve("ok"), "convnet-s");
        resetConsole();
        assertEquals(0, Main.run("inspect", ok.toString()), stderr());

        Path other = model(tmp.resolve("other"), "resnet-s");
        tamper(other, t -> {}, j -> {
            j.put("arch", "convnet-s");
            j.put("feature_dim", 128);
        });
        assertUserError("other", "inspect", other.toString());

        Path shape = model(tmp.resolve("shape"), "convnet-s");
        tamper(shape, t -> {
            String name = firstTensor(t);
            t.put(name, new Tensor.F32(new long[] {1}, new float[] {0.5f}));
        }, j -> {});
        assertUserError("shape", "inspect", shape.toString());

        Path missing = model(tmp.resolve("missing"), "convnet-s");
        tamper(missing, t -> t.remove(firstTensor(t)), j -> {});
        assertUserError("missing tensor", "inspect", missing.toString());

        Path extra = model(tmp.resolve("extra"), "convnet-s");
        tamper(extra, t -> t.put("surprise", new Tensor.F32(new long[] {1}, new float[] {1f})), j -> {});
        assertUserError("surprise", "inspect", extra.toString());

        Path nan = model(tmp.resolve("nan"), "convnet-s");
        tamper(nan, t -> ((Tensor.F32) t.get(firstTensor(t))).data()[0] = Float.NaN, j -> {});
        assertUserError("not finite", "inspect", nan.toString());

        Path width = model(tmp.resolve("width"), "convnet-s");
        tamper(width, t -> {}, j -> j.put("feature_dim", 999));
        assertUserError("999", "inspect", width.toString());

        Path arch = model(tmp.resolve("arch"), "convnet-s");
        tamper(arch, t -> {}, j -> j.put("arch", "resnet-s"));
        assertUserError("arch", "inspect", arch.toString());

        Path huge = model(tmp.resolve("huge"), "convnet-s");
        tamper(huge, t -> {}, j -> {
            ((ObjectNode) j.get("input")).put("height", 100000);
            ((ObjectNode) j.get("input")).put("width", 100000);
        });
        assertUserError("100000", "inspect", huge.toString());
    }

    // 8. a run that never completed a step leaves nothing behind

    @Test
    void trainingThatFailsBeforeItsFirstStepLeavesNothing() throws IOException {
        requireFashionMnist();
        Path run = tmp.resolve("run");
        assertUserError("--batch", "train", "--method", "byol", "--data", "fashion-mnist", "--limit", "100",
                "--arch", "convnet-s", "--epochs", "1", "--batch", "500", "--out", run.toString());
        assertFalse(Files.exists(run), "the failed run left " + run);
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertUserError("--batch", "train", "--method", "byol", "--data", "fashion-mnist", "--limit", "100",
                "--arch", "convnet-s", "--epochs", "1", "--batch", "500", "--out", empty.toString());
        try (Stream<Path> left = Files.list(empty)) {
            assertEquals(List.of(), left.toList());
        }
        resetConsole();
        assertEquals(0, Main.run("train", "--method", "byol", "--data", "fashion-mnist", "--limit", "100",
                "--arch", "convnet-s", "--epochs", "1", "--batch", "50", "--out", run.toString()), stderr());
    }

    // 9. zero participants

    @Test
    void zeroParticipantsAreRefused() {
        assertUserError("--participants", "collab", "--data", "fashion-mnist", "--limit", "300", "--priors",
                "random:convnet-s:1", "--participants", "0", "--out", tmp.resolve("o").toString());
        assertFalse(Files.exists(tmp.resolve("o")));
    }

    // 10. an empty CIFAR batch file

    @Test
    void emptyCifarBatchFileIsRefused() throws IOException {
        Path home = Files.createDirectory(tmp.resolve("cifar"));
        byte[] record = new byte[3073];
        for (int b = 1; b <= 5; b++) {
            Files.write(home.resolve("data_batch_" + b + ".bin"), b == 1 ? new byte[0] : record);
        }
        Files.write(home.resolve("test_batch.bin"), record);
        assertUserError("data_batch_1.bin", "eval", "linear", "--model", "random:convnet-s", "--train", "cifar10:" + home,
                "--test", "cifar10:" + home);
    }

    // 11. libtorch's one-time warning

    @Test
    void loadingAModelPrintsNoEngineWarning() throws Exception {
        requireFashionMnist();
        Path m = model(tmp.resolve("m"), "convnet-s");
        CooptProcess.Result r = CooptProcess.run(120, null, Map.of(), tmp, "optimize", "--data", "fashion-mnist",
                "--limit", "100", "--prior", "model:" + m, "--out", tmp.resolve("o").toString(), "--json");
        assertEquals(0, r.exit(), r.stderr());
        assertFalse(r.stderr().contains("Warning"), r.stderr());
        assertFalse(r.stderr().contains("AutoNonVariableTypeMode"), r.stderr());
        // resuming a run loads every parameter and optimiser moment again
        Path run = tmp.resolve("run");
        assertEquals(0, Main.run("train", "--method", "byol", "--data", "fashion-mnist", "--limit", "100",
                "--arch", "convnet-s", "--epochs", "1", "--batch", "50", "--out", run.toString()), stderr());
        r = CooptProcess.run(120, null, Map.of(), tmp, "train", "--method", "byol", "--data", "fashion-mnist",
                "--limit", "100", "--arch", "convnet-s", "--epochs", "2", "--batch", "50", "--out", run.toString(),
                "--resume", "--json");
        assertEquals(0, r.exit(), r.stderr());
        assertFalse(r.stderr().contains("AutoNonVariableTypeMode"), r.stderr());
    }

    // smaller ones

    @Test
    void inspectOnAFileSaysItIsNotADirectory() throws IOException {
        Path file = Files.writeString(tmp.resolve("file.txt"), "x");
        assertUserError("not a directory", "inspect", file.toString());
    }

    @Test
    void aManifestOfWhitespaceIsNotCalledEmpty() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("ws"));
        Files.write(dir.resolve("manifest.json"), " \n".repeat(1 << 20).getBytes());
        assertUserError("no JSON value", "inspect", dir.toString());
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        Files.write(empty.resolve("manifest.json"), new byte[0]);
        assertUserError("is empty", "inspect", empty.toString());
    }

    @Test
    void anOversizedManifestIsRefusedBeforeItIsRead() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("big"));
        try (var channel = java.nio.channels.FileChannel.open(dir.resolve("manifest.json"),
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap(new byte[] {' '}), 300L << 20); // a sparse 300 MB file
        }
        assertUserError("too large", "inspect", dir.toString());
    }

    @Test
    void existingDatasetIsUnchangedByARefusedRun() throws IOException {
        Path opt = smallDataset();
        byte[] targets = Files.readAllBytes(opt.resolve("targets.safetensors"));
        assertUserError("--dim", "optimize", "--data", "fashion-mnist", "--limit", "200", "--prior", "random:convnet-s:1",
                "--dim", "100000", "--out", opt.toString());
        assertArrayEquals(targets, Files.readAllBytes(opt.resolve("targets.safetensors")));
    }
}
