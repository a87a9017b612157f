package ai.coopt.eval;

import ai.coopt.dataset.DatasetSpec;
import ai.djl.Device;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The linear probe on a real Fashion-MNIST slice with a random convnet-s: far above chance (10%). */
class RandomBackboneProbeTest {
    @Test
    void randomConvNetFeaturesBeatChanceByAWideMargin() {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")) || System.getenv("COOPT_DATA") != null,
                "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        DatasetSpec data = DatasetSpec.parse("fashion-mnist");
        LinearEvaluation.Report r = LinearEvaluation.run("random:convnet-s", data, data, 2000,
                new LinearProbe.Settings(30, 256, 3e-4f, 0), Device.cpu(), ai.coopt.util.ProgressListener.NONE);
        assertEquals(2000, r.probe().trainCount());
        assertEquals(2000, r.probe().testCount());
        assertEquals(10, r.probe().classes());
        assertTrue(r.probe().top1() > 0.55, "top1 " + r.probe().top1() + " is not far above chance (0.10)");
    }
}
