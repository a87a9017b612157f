package ai.coopt.train;

import ai.coopt.data.Augmentation;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.engine.Precision;
import ai.coopt.optimize.DataOptimization;
import ai.coopt.report.MetricsLog;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.ModelDirectory;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.train.methods.MethodSpec;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Short real trainings on a Fashion-MNIST slice: losses fall, checkpoints load, resume is exact. No accuracy targets. */
class TrainingTest {
    private static final DatasetSpec DATA = DatasetSpec.parse("fashion-mnist");
    private static final int LIMIT = 512;

    @BeforeAll
    static void needsFashionMnist() {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
    }

    private static TrainingConfig config(int epochs, double checkpointEvery) {
        return new TrainingConfig(epochs, 0, 64, 1e-3f, 0.01f, 1, 1, checkpointEvery, 1.0, Augmentation.Params.defaults());
    }

    private static Training.Outcome train(MethodSpec spec, Path targets, Path out, TrainingConfig config, boolean resume,
                                          ProgressListener progress) {
        return Training.run(new Training.Request(DATA, "train", LIMIT, targets, "convnet-s", spec, config, out, resume,
                Device.cpu(), JsonNodeFactory.instance.objectNode()), progress);
    }

    private static double mean(List<MetricsLog.Entry> entries, int from, int to) {
        return entries.subList(from, to).stream().mapToDouble(MetricsLog.Entry::loss).average().orElseThrow();
    }

    @Test
    void byolLossFallsAndEveryCheckpointIsALoadableModel(@TempDir Path tmp) {
        Path run = tmp.resolve("byol");
        Training.Outcome o = train(MethodSpec.of("byol", null, null), null, run, config(4, 0), false, ProgressListener.NONE);
        assertEquals(4 * (LIMIT / 64), o.result().steps());
        List<MetricsLog.Entry> log = MetricsLog.read(run.resolve("metrics.jsonl"));
        assertEquals(o.result().steps(), log.size());
        assertTrue(mean(log, log.size() - 5, log.size()) < mean(log, 0, 5), "BYOL loss did not fall");
        ModelDirectory model = ModelDirectory.read(run);
        assertEquals("byol", model.method());
        model.open(Device.cpu()).close();
        assertTrue(Files.isRegularFile(run.resolve("loss.png")));
        assertEquals(2, o.result().checkpoints());
        ModelDirectory.read(run.resolve("checkpoints/step-000000000")).open(Device.cpu()).close();
    }

    @Test
    void relaOnOptimizedDataFallsThenHandsOffToByol(@TempDir Path tmp) {
        Path targets = tmp.resolve("targets");
        DataOptimization.run(DATA, "train", LIMIT, "random:convnet-s:7", targets, new DataOptimization.Settings(32, 128, 200, 0),
                Device.cpu(), ProgressListener.NONE,
                new ManifestProvenance.Created(Instant.now(), "test", List.of("test"), 0));
        Path run = tmp.resolve("rela");
        train(MethodSpec.of("rela", "byol", 0.5), targets, run, config(4, 0), false, ProgressListener.NONE);
        List<MetricsLog.Entry> log = MetricsLog.read(run.resolve("metrics.jsonl"));
        Set<String> phases = log.stream().map(MetricsLog.Entry::phase).collect(Collectors.toSet());
        assertEquals(Set.of("rela", "byol"), phases);
        int switchAt = (int) log.stream().filter(e -> e.phase().equals("rela")).count();
        assertTrue(mean(log, switchAt - 3, switchAt) < mean(log, 0, 3), "ReLA loss did not fall");
        assertEquals("rela>byol", ModelDirectory.read(run).method());
    }

    /**
     * Targets made on a --limit subset train a student on that subset, whatever the command; a student asked to read
     * another subset (another --limit-seed) is refused in one line before anything is written.
     */
    @Test
    void targetsOfALimitSubsetTrainOnItAndAnotherSubsetIsRefused(@TempDir Path tmp) {
        Path targets = tmp.resolve("targets");
        DataOptimization.run(DATA, "train", LIMIT, "random:convnet-s:7", targets, new DataOptimization.Settings(16, 128, 100, 0),
                Device.cpu(), ProgressListener.NONE, new ManifestProvenance.Created(Instant.now(), "test", List.of("test"), 0));
        OptimizedDataset d = OptimizedDataset.read(targets);
        assertEquals(LIMIT, d.count());
        assertNotNull(d.provenance().source().subset(), "the manifest records the draw");
        assertEquals(DATA.load("train", LIMIT).drawn(), d.provenance().source().subset());
        assertTrue(java.util.Arrays.stream(d.ids()).anyMatch(id -> id >= LIMIT), "ids are indices in the whole split");
        Path run = tmp.resolve("rela");
        Training.Outcome o = Training.run(new Training.Request(DATA, "train", LIMIT, targets, "convnet-s",
                MethodSpec.of("rela", "none", null), config(1, 0), run, false, Device.cpu(),
                JsonNodeFactory.instance.objectNode()), ProgressListener.NONE);
        assertEquals(LIMIT, o.images());
        ai.coopt.UserException e = assertThrows(ai.coopt.UserException.class, () -> Training.run(new Training.Request(
                DATA.withLimitSeed(1), "train", LIMIT, targets, "convnet-s", MethodSpec.of("rela", "none", null),
                config(1, 0), tmp.resolve("other"), false, Device.cpu(), JsonNodeFactory.instance.objectNode()),
                ProgressListener.NONE));
        // the command line's line names --limit-seed 0 and 1: FlagsTest
        assertTrue(e.getMessage().contains("limit seed 0") && e.getMessage().contains("limit seed 1")
                && !e.getMessage().contains("\n"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("other")), "nothing written for a refused run");
    }

    @Test
    void relaWithoutTargetsIsRefused(@TempDir Path tmp) {
        assertThrows(ai.coopt.UserException.class,
                () -> train(MethodSpec.of("rela", "none", null), null, tmp.resolve("r"), config(1, 0), false, ProgressListener.NONE));
    }

    /** Stops the run like a crash after a given number of steps. */
    private static final class CrashAt implements ProgressListener {
        private final long step;

        CrashAt(long step) {
            this.step = step;
        }

        @Override
        public void start(String task, long total, String unit) {}

        @Override
        public void advance(long done) {
            if (done >= step) {
                throw new IllegalStateException("simulated crash");
            }
        }

        @Override
        public void finish() {}
    }

    @Test
    void aRunStoppedMidEpochResumesToExactlyTheSameWeights(@TempDir Path tmp) throws Exception {
        Path whole = tmp.resolve("whole");
        train(MethodSpec.of("byol", null, null), null, whole, config(3, 0), false, ProgressListener.NONE);

        Path broken = tmp.resolve("broken");
        assertThrows(IllegalStateException.class, () ->
                train(MethodSpec.of("byol", null, null), null, broken, config(3, 1e-9), false, new CrashAt(11)));
        assertTrue(Files.notExists(broken.resolve("model.json")));
        Training.Outcome resumed = train(MethodSpec.of("byol", null, null), null, broken, config(3, 1e-9), true,
                ProgressListener.NONE);
        assertTrue(resumed.result().resumed());
        assertEquals(3 * (LIMIT / 64), resumed.result().steps());
        assertArrayEquals(Files.readAllBytes(whole.resolve("weights.safetensors")),
                Files.readAllBytes(broken.resolve("weights.safetensors")));
        assertEquals(MetricsLog.read(whole.resolve("metrics.jsonl")).size(),
                MetricsLog.read(broken.resolve("metrics.jsonl")).size());
    }

    /**
     * A BYOL run in bf16 (its target network too) trains (the loss falls), records its precision, resumes after a
     * crash to exactly the weights of an uninterrupted bf16 run, and is refused when resumed in fp32.
     */
    @Test
    void aBf16RunTrainsRecordsItsPrecisionAndResumesOnlyInBf16(@TempDir Path tmp) throws Exception {
        MethodSpec byol = MethodSpec.of("byol", null, null);
        Path whole = tmp.resolve("whole");
        Training.run(new Training.Request(DATA, "train", LIMIT, null, "convnet-s", byol, config(3, 0), whole, false,
                Device.cpu(), JsonNodeFactory.instance.objectNode(), Precision.BF16), ProgressListener.NONE);
        List<MetricsLog.Entry> log = MetricsLog.read(whole.resolve("metrics.jsonl"));
        assertTrue(mean(log, log.size() - 5, log.size()) < mean(log, 0, 5), "bf16 BYOL loss did not fall");
        assertEquals("bf16", ModelDirectory.read(whole).provenance().path("precision").asText());

        Path broken = tmp.resolve("broken");
        assertThrows(IllegalStateException.class, () -> Training.run(new Training.Request(DATA, "train", LIMIT, null,
                "convnet-s", byol, config(3, 1e-9), broken, false, Device.cpu(), JsonNodeFactory.instance.objectNode(),
                Precision.BF16), new CrashAt(11)));
        ai.coopt.UserException refused = assertThrows(ai.coopt.UserException.class, () -> train(byol, null, broken,
                config(3, 1e-9), true, ProgressListener.NONE));
        assertTrue(refused.getMessage().contains("trained in bf16"), refused.getMessage());
        assertEquals(java.util.Set.of(ai.coopt.Setting.PRECISION), refused.settings());
        Training.run(new Training.Request(DATA, "train", LIMIT, null, "convnet-s", byol, config(3, 1e-9), broken, true,
                Device.cpu(), JsonNodeFactory.instance.objectNode(), Precision.BF16), ProgressListener.NONE);
        assertArrayEquals(Files.readAllBytes(whole.resolve("weights.safetensors")),
                Files.readAllBytes(broken.resolve("weights.safetensors")));
    }

    /** Every method's extra state (queue, centre, teacher, prototypes) and the schedules resume exactly too. */
    @ParameterizedTest
    @ValueSource(strings = {"moco", "simsiam", "dino", "swav", "dcl"})
    void everyMethodResumesToExactlyTheSameWeights(String name, @TempDir Path tmp) throws Exception {
        MethodSpec spec = ai.coopt.train.methods.SslMethodsFixtures.small(name);
        TrainingConfig config = new TrainingConfig(2, 0, 64, 1e-3f, 0.04f, 1, 1, 1e-9, 1.0, Augmentation.Params.defaults(),
                Schedule.COSINE, 0.2, 1e-5, 0.4, false);
        Path whole = tmp.resolve("whole");
        train(spec, null, whole, config, false, ProgressListener.NONE);
        Path broken = tmp.resolve("broken");
        assertThrows(IllegalStateException.class, () -> train(spec, null, broken, config, false, new CrashAt(11)));
        Training.Outcome resumed = train(spec, null, broken, config, true, ProgressListener.NONE);
        assertTrue(resumed.result().resumed());
        assertEquals(2 * (LIMIT / 64), resumed.result().steps());
        assertArrayEquals(Files.readAllBytes(whole.resolve("weights.safetensors")),
                Files.readAllBytes(broken.resolve("weights.safetensors")), name);
        List<MetricsLog.Entry> a = MetricsLog.read(whole.resolve("metrics.jsonl"));
        List<MetricsLog.Entry> b = MetricsLog.read(broken.resolve("metrics.jsonl"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).loss(), b.get(i).loss(), 0.0, name + " loss at step " + (i + 1));
            assertEquals(a.get(i).lr(), b.get(i).lr(), 0.0, name + " lr at step " + (i + 1));
        }
        assertEquals(0.0, a.get(0).lr(), 0.0, "the warm-up starts from 0");
        assertTrue(a.get(a.size() - 1).lr() < 1e-3 / 2, "the cosine ends low: " + a.get(a.size() - 1).lr());
    }

    @Test
    void aDivergingRunStopsWithOneLineThatSaysWhatToChange(@TempDir Path tmp) {
        // a step of Adam moves each weight by about the learning rate: 1e30 overflows the activations at once
        TrainingConfig config = new TrainingConfig(4, 0, 64, 1e30f, 0.01f, 1, 1, 0, 1.0, Augmentation.Params.defaults());
        ai.coopt.UserException e = assertThrows(ai.coopt.UserException.class, () ->
                train(MethodSpec.of("byol", null, null), null, tmp.resolve("run"), config, false, ProgressListener.NONE));
        // the library names the settings; the command line's line, with the flags, is FlagsTest's
        assertTrue(e.getMessage().matches("the byol loss became (NaN|-?Infinity) at step \\d+: training diverged at "
                + "learning rate 1\\.0E30; lower learning rate, add a warm-up \\(learning-rate schedule cosine warm-up "
                + "0\\.1\\) and train again into a new output directory"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void aNonEmptyOutputIsRefusedWithoutResume(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("notes.txt"), "x");
        assertThrows(ai.coopt.UserException.class,
                () -> train(MethodSpec.of("byol", null, null), null, tmp, config(1, 0), false, ProgressListener.NONE));
        assertEquals("x", Files.readString(tmp.resolve("notes.txt")));
    }
}
