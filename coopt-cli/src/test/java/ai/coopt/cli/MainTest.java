package ai.coopt.cli;

import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.TestPlatform;
import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The command line as a user meets it: exit codes, one-line errors, JSON on stdout. */
class MainTest extends ConsoleCapture {

    /** A user error: exit 2, exactly one line on stderr, no stack trace, nothing on stdout. */
    private void assertUserError(String expectedFragment, String... args) {
        assertEquals(2, Main.run(args), stderr());
        String e = stderr().strip();
        assertEquals(1, e.lines().count(), "expected one line, got:\n" + e);
        assertTrue(e.startsWith("coopt: "), e);
        assertTrue(e.contains(expectedFragment), e);
        assertFalse(e.contains("\tat "), e);
        assertEquals("", stdout());
    }

    /**
     * A password on the command line (here in serve's --db URL) is in no message and in no provenance: model
     * directories (train, prior pretrain, demo, rounds' created.json) record {@link Provenance#createdNode}, datasets
     * (optimize, collab, data pack, the platform's round) {@link Provenance#created}; both read Main.commandLine().
     */
    @Test
    void aPasswordOnTheCommandLineIsNeitherPrintedNorRecorded(@TempDir Path tmp) {
        String pw = "pw-9sKq2Lm";
        assertUserError("cannot open postgresql://127.0.0.1:1/coopt?user=coopt&password=***", "platform", "serve",
                "--dir", tmp.resolve("p").toString(), "--db", "postgresql://127.0.0.1:1/coopt?user=coopt&password=" + pw,
                "--data", "fashion-mnist", "--limit", "10");
        assertFalse(stderr().contains(pw), stderr());
        assertTrue(Main.commandLine().contains("postgresql://127.0.0.1:1/coopt?user=coopt&password=***"),
                Main.commandLine().toString());
        assertFalse(Provenance.createdNode(0).toString().contains(pw), Provenance.createdNode(0).toString());
        assertFalse(Provenance.created(0).commandLine().toString().contains(pw));
    }

    /** {@code platform download --wait N} on a round that is not fused in time: exit 2, its last line says so. */
    @Test
    void downloadWaitRunsOutWithOneLine(@TempDir Path tmp) {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", 200);
        PlatformConfig c = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 200, null, 200,
                images.fingerprint(), 0, 2, null, 20, 1, 60, "ridge", 0, Instant.now().toString(), "test", List.of("t"));
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, c, images, null)) {
            String token = tmp.resolve("platform").resolve(OperatorToken.FILE).toString();
            assertEquals(2, Main.run("platform", "download", "--platform", running.url(), "--operator-token-file",
                    token, "--out", tmp.resolve("out").toString(), "--wait", "1"), stderr());
            List<String> lines = stderr().strip().lines().toList();
            assertTrue(lines.get(lines.size() - 1).startsWith("coopt: the platform has no fused dataset yet")
                    && lines.get(lines.size() - 1).endsWith("waited 1 s (--wait)"), stderr());
            assertFalse(stderr().contains("\tat "), stderr());
            assertEquals("", stdout());
            // without the operator's token: refused at once, one line, however long --wait is
            resetConsole();
            long t0 = System.nanoTime();
            assertEquals(2, Main.run("platform", "download", "--platform", running.url(), "--out",
                    tmp.resolve("out").toString(), "--wait", "60"), stderr());
            assertTrue((System.nanoTime() - t0) / 1e9 < 30, "no waiting for a 401");
            assertEquals(1, stderr().strip().lines().count(), stderr());
            assertTrue(stderr().startsWith("coopt: the platform refused the dataset (HTTP 401)"), stderr());
            assertFalse(stderr().contains("\tat "), stderr());
        }
        resetConsole();
        assertUserError("--wait must be", "platform", "download", "--platform", "http://127.0.0.1:9", "--out",
                tmp.resolve("o2").toString(), "--wait", "-1");
    }

    @Test
    void unknownArchitecture() {
        assertUserError("unknown architecture 'resnet7'", "bench", "throughput", "--arch", "resnet7");
    }

    @Test
    void unknownOption() {
        assertUserError("--bogus", "bench", "throughput", "--arch", "convnet-s", "--bogus");
    }

    @Test
    void impossibleOptionValues() {
        assertUserError("--batch must be at least 1", "bench", "throughput", "--arch", "convnet-s", "--batch", "0");
        err.reset();
        assertUserError("--device must be cpu, gpu or auto", "bench", "throughput", "--arch", "convnet-s", "--device", "tpu");
    }

    @Test
    void missingDatasetDirectory(@TempDir Path tmp) {
        assertUserError("is not a directory", "eval", "linear", "--model", "random:convnet-s",
                "--train", "idx:" + tmp.resolve("nowhere"), "--test", "idx:" + tmp.resolve("nowhere"));
    }

    @Test
    void corruptIdxFile(@TempDir Path tmp) throws IOException {
        for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
            Files.write(tmp.resolve(f), new byte[] {0, 0, 8, 3, 0, 0});
        }
        assertUserError("train-images-idx3-ubyte", "eval", "linear", "--model", "random:convnet-s",
                "--train", "idx:" + tmp, "--test", "idx:" + tmp);
    }

    @Test
    void badModelSpec() {
        assertUserError("unknown architecture", "eval", "linear", "--model", "random:alexnet",
                "--train", "fashion-mnist", "--test", "fashion-mnist");
    }

    @Test
    void throughputJsonHasBothFigures() throws IOException {
        assertEquals(0, Main.run("bench", "throughput", "--arch", "convnet-s", "--batch", "8", "--steps", "2",
                "--warmup", "1", "--json"), stderr());
        JsonNode j = new ObjectMapper().readTree(stdout());
        assertTrue(j.get("train_img_per_s").asDouble() > 0);
        assertTrue(j.get("infer_img_per_s").asDouble() > 0);
        // every timed step, in order: [start, ms since the epoch; duration, ms], which bench_concurrent.py lines up
        // with PyTorch's over the window both were timing
        JsonNode steps = j.get("train_steps");
        assertEquals(2, steps.size());
        double total = 0;
        for (int i = 0; i < steps.size(); i++) {
            assertTrue(steps.get(i).get(1).asDouble() > 0, "step " + i + " has a duration");
            total += steps.get(i).get(1).asDouble();
        }
        assertTrue(steps.get(1).get(0).asLong() >= steps.get(0).get(0).asLong() + (long) steps.get(0).get(1).asDouble()
                - 1, "the second step starts after the first ends");
        assertEquals(j.get("train_img_per_s").asDouble(), 2 * 8 / (total / 1e3), j.get("train_img_per_s").asDouble()
                * 0.02, "the steps' durations are the timed training");
    }

    @Test
    void linearProbeOnRealFashionMnistSliceGivesJsonTop1() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        assertEquals(0, Main.run("eval", "linear", "--model", "random:convnet-s:3", "--train", "fashion-mnist",
                "--test", "fashion-mnist", "--limit", "1000", "--epochs", "40", "--json"), stderr());
        JsonNode j = new ObjectMapper().readTree(stdout());
        double top1 = j.get("top1").asDouble();
        // measured 0.53 with these settings; chance is 0.10
        assertTrue(top1 > 0.35 && top1 <= 1.0, "top1 " + top1);
        assertEquals(1000, j.get("train_count").asInt());
        assertEquals(40, j.get("test_top1_per_epoch").size());
    }

    @Test
    void dataFetchPrintsTheLocalPath() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        assertEquals(0, Main.run("data", "fetch", "fashion-mnist", "--json"), stderr());
        JsonNode j = new ObjectMapper().readTree(stdout());
        assertTrue(j.get("path").asText().endsWith("fashion-mnist"), j.toString());
    }

    @Test
    void unknownDatasetName() {
        assertUserError("unknown dataset", "data", "fetch", "cifar-11");
    }

    private static Path smallOptimizedDataset(Path tmp) {
        Path out = tmp.resolve("opt");
        assertEquals(0, Main.run("optimize", "--data", "fashion-mnist", "--limit", "300", "--prior", "random:convnet-s",
                "--out", out.toString(), "--dim", "16"));
        return out;
    }

    @Test
    void optimizeWritesADatasetThatInspectVerifies(@TempDir Path tmp) throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Path out = smallOptimizedDataset(tmp);
        this.out.reset();
        assertEquals(0, Main.run("inspect", out.toString(), "--json"), stderr());
        JsonNode j = new ObjectMapper().readTree(stdout());
        assertEquals("optimized-dataset", j.get("kind").asText());
        assertEquals(300, j.get("count").asInt());
        assertEquals(16, j.get("dim").asInt());
        assertEquals("ok", j.get("checksum").asText());
        assertEquals("random:convnet-s:0", j.get("participants").get(0).get("prior").asText());
    }

    @Test
    void tamperedDatasetIsRefusedByInspectAndLeftAsItWas(@TempDir Path tmp) throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Path dir = smallOptimizedDataset(tmp);
        Path targets = dir.resolve("targets.safetensors");
        byte[] bytes = Files.readAllBytes(targets);
        bytes[bytes.length - 1] ^= 1;
        Files.write(targets, bytes);
        out.reset();
        err.reset();
        assertUserError("checksum mismatch", "inspect", dir.toString());
        assertArrayEquals(bytes, Files.readAllBytes(targets));
        Files.write(targets, java.util.Arrays.copyOf(bytes, 100));
        err.reset();
        assertUserError(dir.toString(), "inspect", dir.toString());
    }

    @Test
    void priorFileThatIsNotAModel(@TempDir Path tmp) throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Path fake = Files.writeString(tmp.resolve("model.onnx"), "this is not a model");
        assertUserError("model.onnx", "optimize", "--data", "fashion-mnist", "--limit", "50",
                "--prior", "onnx:" + fake, "--out", tmp.resolve("o").toString());
        assertFalse(Files.exists(tmp.resolve("o")));
    }

    @Test
    void optimizeRefusesToReplaceADirectoryThatIsNotADataset(@TempDir Path tmp) throws IOException {
        Path precious = Files.createDirectory(tmp.resolve("precious"));
        Files.writeString(precious.resolve("notes.txt"), "keep me");
        assertUserError("refusing to replace", "optimize", "--data", "fashion-mnist", "--prior", "random:convnet-s",
                "--out", precious.toString());
        assertEquals("keep me", Files.readString(precious.resolve("notes.txt")));
    }

    @Test
    void dimWiderThanThePrior() {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        assertUserError("wider than the prior", "optimize", "--data", "fashion-mnist", "--limit", "50",
                "--prior", "random:convnet-s", "--dim", "1024", "--out", "/tmp/coopt-never-written");
    }

    @Test
    void trainingOptionsThatCannotWorkAreRefused(@TempDir Path tmp) {
        assertUserError("give --targets", "train", "--method", "rela", "--data", "fashion-mnist", "--arch", "convnet-s",
                "--epochs", "1", "--out", tmp.resolve("a").toString());
        err.reset();
        assertUserError("exactly one of --epochs", "train", "--method", "byol", "--data", "fashion-mnist", "--arch",
                "convnet-s", "--epochs", "1", "--budget-seconds", "5", "--out", tmp.resolve("b").toString());
        err.reset();
        assertUserError("--method one of simclr, byol, dino, moco, simsiam, swav, dcl", "prior", "pretrain", "--method",
                "rela", "--data", "fashion-mnist", "--arch", "convnet-s", "--epochs", "1", "--out", tmp.resolve("c").toString());
        err.reset();
        assertUserError("--moco-queue is not a setting of dino", "train", "--method", "dino", "--moco-queue", "4",
                "--data", "fashion-mnist", "--arch", "convnet-s", "--epochs", "1", "--out", tmp.resolve("e").toString());
        err.reset();
        assertUserError("--swav-epsilon must be a positive number", "train", "--method", "rela", "--then", "swav",
                "--swav-epsilon", "0", "--targets", tmp.toString(), "--data", "fashion-mnist", "--arch", "convnet-s",
                "--epochs", "1", "--out", tmp.resolve("f").toString());
        err.reset();
        assertUserError("--warmup needs --lr-schedule cosine", "train", "--method", "byol", "--warmup", "0.1",
                "--data", "fashion-mnist", "--arch", "convnet-s", "--epochs", "1", "--out", tmp.resolve("g").toString());
        err.reset();
        assertUserError("--then", "train", "--method", "byol", "--then", "simclr", "--data", "fashion-mnist", "--arch",
                "convnet-s", "--epochs", "1", "--out", tmp.resolve("d").toString());
    }

    @Test
    void pretrainedPriorIsAModelThatInspectAndTheCurveRead(@TempDir Path tmp) throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Path run = tmp.resolve("prior");
        assertEquals(0, Main.run("prior", "pretrain", "--method", "simclr", "--data", "fashion-mnist", "--limit", "256",
                "--arch", "convnet-s", "--epochs", "1", "--batch", "64", "--out", run.toString(), "--json"), stderr());
        JsonNode trained = new ObjectMapper().readTree(stdout());
        assertEquals(4, trained.get("steps").asInt());
        assertEquals("simclr", trained.get("method").asText());
        out.reset();
        assertEquals(0, Main.run("inspect", run.toString(), "--json"), stderr());
        assertEquals("model", new ObjectMapper().readTree(stdout()).get("kind").asText());
        out.reset();
        assertEquals(0, Main.run("eval", "curve", "--run", run.toString(), "--train", "fashion-mnist", "--test",
                "fashion-mnist", "--limit", "300", "--epochs", "3", "--json"), stderr());
        JsonNode curve = new ObjectMapper().readTree(stdout());
        assertEquals(2, curve.get("runs").get(0).get("points").size());
        assertTrue(Files.isRegularFile(Path.of(curve.get("plot").asText())));
    }

    /** A method's flags and the schedules reach the run's provenance: what was trained is on record. */
    @Test
    void methodSettingsAndSchedulesAreRecordedInTheModel(@TempDir Path tmp) throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Path run = tmp.resolve("moco");
        assertEquals(0, Main.run("prior", "pretrain", "--method", "moco", "--moco-queue", "256", "--temperature", "0.3",
                "--lr-schedule", "cosine", "--warmup", "0.25", "--no-bias-norm-decay", "--data", "fashion-mnist",
                "--limit", "256", "--arch", "convnet-s", "--epochs", "1", "--batch", "64", "--out", run.toString(),
                "--json"), stderr());
        assertEquals("moco", new ObjectMapper().readTree(stdout()).get("method").asText());
        JsonNode p = new ObjectMapper().readTree(run.resolve("model.json").toFile()).get("provenance");
        assertEquals(256, p.at("/method_settings/ssl/queue").asInt(), p.toString());
        assertEquals(0.3, p.at("/method_settings/ssl/temperature").asDouble(), 1e-9);
        assertEquals(0.999, p.at("/method_settings/ssl/momentum").asDouble(), 1e-9, "a default kept");
        assertEquals("moco", p.at("/method_settings/ssl_method").asText());
        assertEquals("cosine", p.at("/hyper_parameters/lr_schedule/shape").asText());
        assertEquals(0.25, p.at("/hyper_parameters/lr_schedule/warmup").asDouble(), 1e-9);
        assertEquals(false, p.at("/hyper_parameters/decay_bias_and_norm").asBoolean());
    }

    @Test
    void skippedImagesAreCountedInTheJsonAndTheManifest(@TempDir Path tmp) throws IOException {
        Path photos = tmp.resolve("photos");
        Files.createDirectories(photos);
        for (int i = 0; i < 6; i++) {
            java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(30 + 7 * i, 20 + 5 * i,
                    java.awt.image.BufferedImage.TYPE_INT_RGB);
            image.setRGB(i, i, 0xffffff);
            javax.imageio.ImageIO.write(image, "png", photos.resolve("p" + i + ".png").toFile());
        }
        Files.write(photos.resolve("p9-broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0, 1, 2});
        Path out = tmp.resolve("opt");
        assertEquals(2, Main.run("optimize", "--data", "folder:" + photos, "--image-size", "16", "--prior",
                "random:convnet-s", "--out", out.toString()));
        assertTrue(stderr().contains("p9-broken.jpg"), stderr());
        this.out.reset();
        assertEquals(0, Main.run("optimize", "--data", "folder:" + photos, "--image-size", "16", "--skip-bad-images",
                "--prior", "random:convnet-s", "--out", out.toString(), "--json"), stderr());
        JsonNode j = new ObjectMapper().readTree(stdout());
        assertEquals(6, j.get("count").asInt());
        assertEquals(1, j.get("skipped_images").asInt());
        assertTrue(j.get("adaptation").asText().startsWith("3x16x16"), j.toString());
        JsonNode manifest = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        assertEquals(1, manifest.get("source").get("skipped_images").asInt());
        this.out.reset();
        assertEquals(0, Main.run("inspect", out.toString()), stderr());
    }
}
