package ai.coopt.eval;

import ai.coopt.UserException;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.nn.Network;
import ai.coopt.store.ModelDirectory;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class LearningCurveTest {
    private static final float[] MEAN = {0.2860402f};
    private static final float[] STD = {0.3530239f};

    @TempDir
    Path dir;

    /** A run as coopt train leaves it: the final model plus checkpoints at steps 0, 5, 10 (names not zero-padded). */
    private Path run() {
        Path run = dir.resolve("byol-convnet-s");
        saveModel(run, 10, 12.0);
        for (long step : new long[] {0, 5, 10}) {
            saveModel(run.resolve(LearningCurve.CHECKPOINTS).resolve("step-" + step), step, step * 1.2);
        }
        return run;
    }

    private static void saveModel(Path target, long step, double seconds) {
        ObjectNode provenance = new ObjectMapper().createObjectNode();
        provenance.put("step", step);
        provenance.put("train_seconds", seconds);
        try (Network net = Network.create("convnet-s", 1, 28, 28, step, Device.cpu())) {
            ModelDirectory.write(target, net, MEAN, STD, "byol", provenance);
        }
    }

    @Test
    void probesEveryCheckpointInStepOrder() {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")),
                "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        Path run = run();
        DatasetSpec data = DatasetSpec.parse("fashion-mnist");
        LearningCurve curve = LearningCurve.of(run, data, data, 300, new LinearProbe.Settings(5, 256, 3e-4f, 0),
                Device.cpu(), ProgressListener.NONE);
        assertEquals(run, curve.run());
        assertEquals("byol", curve.method());
        assertEquals(List.of(0L, 5L, 10L), curve.points().stream().map(LearningCurve.Point::step).toList());
        assertEquals(List.of(0.0, 6.0, 12.0), curve.points().stream().map(LearningCurve.Point::seconds).toList());
        for (LearningCurve.Point p : curve.points()) {
            assertTrue(p.top1() > 0 && p.top1() <= 1, "top1 " + p.top1());
        }
    }

    @Test
    void unfinishedWritesAreIgnoredAndTheMethodComesFromTheNewestCheckpointBeforeTheRunEnds() throws IOException {
        Path run = dir.resolve("running");
        saveModel(run.resolve("checkpoints/step-3"), 3, 1.0);
        Files.createDirectories(run.resolve("checkpoints/.step-7.tmp-abc"));
        Files.writeString(run.resolve("checkpoints/notes.txt"), "not a checkpoint");
        List<LearningCurve.Checkpoint> checkpoints = LearningCurve.checkpoints(run);
        assertEquals(1, checkpoints.size());
        assertEquals(3, checkpoints.get(0).step());
        assertEquals("byol", checkpoints.get(0).method());
    }

    @Test
    void aDirectoryWithoutCheckpointsIsNotARun() throws IOException {
        Path plain = Files.createDirectories(dir.resolve("plain"));
        UserException none = assertThrows(UserException.class, () -> LearningCurve.checkpoints(plain));
        assertTrue(none.getMessage().contains("not a training run"), none.getMessage());

        Files.createDirectories(plain.resolve(LearningCurve.CHECKPOINTS));
        UserException empty = assertThrows(UserException.class, () -> LearningCurve.of(plain,
                DatasetSpec.parse("fashion-mnist"), DatasetSpec.parse("fashion-mnist"), 10,
                LinearProbe.Settings.defaults(), Device.cpu(), ProgressListener.NONE));
        assertTrue(empty.getMessage().contains("no checkpoints"), empty.getMessage());

        UserException missing = assertThrows(UserException.class, () -> LearningCurve.checkpoints(dir.resolve("nope")));
        assertTrue(missing.getMessage().contains("no such directory"), missing.getMessage());
    }

    @Test
    void aCorruptCheckpointIsNamed() throws IOException {
        Path run = run();
        Path weights = run.resolve("checkpoints/step-5").resolve(ModelDirectory.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(weights);
        bytes[bytes.length - 1] ^= 1;
        Files.write(weights, bytes);
        UserException e = assertThrows(UserException.class, () -> LearningCurve.checkpoints(run));
        assertTrue(e.getMessage().startsWith("checkpoint step-5 of run " + run), e.getMessage());
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
