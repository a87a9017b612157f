package ai.coopt.report;

import ai.coopt.eval.LearningCurve;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlotsTest {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @TempDir
    Path dir;

    @Test
    void lossPlotOfARunWithAHandOffIsAReadablePng() throws IOException {
        Path run = dir.resolve("rela-then-byol");
        try (MetricsLog log = MetricsLog.open(run.resolve("metrics.jsonl"))) {
            for (int step = 0; step < 200; step++) {
                String phase = step < 120 ? "rela" : "byol";
                log.append(step, step * 0.25, step / 50, 3.0 / (1 + step * 0.05), phase, 1e-3);
            }
        }
        Path png = run.resolve("loss.png");
        Plots.lossPlot(run.resolve("metrics.jsonl"), png);
        assertReadablePng(png);
    }

    @Test
    void curvesPlotOfTwoRunsIsAReadablePngAndReplacesAnOldOne() throws IOException {
        List<Plots.Curve> curves = List.of(
                new Plots.Curve("rela-convnet-s", List.of(new LearningCurve.Point(0, 0, 0.78),
                        new LearningCurve.Point(500, 41.5, 0.84), new LearningCurve.Point(1000, 83.0, 0.86))),
                new Plots.Curve("byol-convnet-s", List.of(new LearningCurve.Point(0, 0, 0.78),
                        new LearningCurve.Point(500, 60.2, 0.79), new LearningCurve.Point(1000, 120.4, 0.81))));
        Path png = dir.resolve("curves.png");
        Files.writeString(png, "old");
        Plots.curvesPlot(curves, png);
        assertReadablePng(png);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(png), files.toList(), "no temporary file is left behind");
        }
    }

    private static void assertReadablePng(Path png) throws IOException {
        byte[] bytes = Files.readAllBytes(png);
        assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(bytes, PNG_SIGNATURE.length));
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "ImageIO cannot decode " + png);
        assertEquals(Plots.WIDTH, image.getWidth());
        assertEquals(Plots.HEIGHT, image.getHeight());
        assertTrue(Plots.WIDTH >= 800 && Plots.HEIGHT >= 500);
    }
}
