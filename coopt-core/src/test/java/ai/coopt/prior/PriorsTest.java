package ai.coopt.prior;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.nn.Network;
import ai.coopt.store.ModelDirectory;
import ai.djl.Device;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PriorsTest {
    static ImageSet images(int count, int channels, int size) {
        byte[] px = new byte[count * channels * size * size];
        new Random(1).nextBytes(px);
        return new ImageSet("synthetic", px, count, channels, size, size, null);
    }

    @Test
    void randomPriorIsBuiltForTheDataAndIdentifiedByItsWeights() {
        ImageSet data = images(5, 1, 28);
        try (Prior a = Priors.open("random:convnet-s:4", data, Device.cpu());
             Prior b = Priors.open("random:convnet-s:4", data, Device.cpu());
             Prior c = Priors.open("random:convnet-s:5", data, Device.cpu())) {
            assertEquals("random", a.kind());
            assertEquals("random:convnet-s:4", a.spec());
            assertEquals(128, a.outputDim());
            assertEquals(1, a.input().channels());
            assertEquals(a.weightsSha256(), b.weightsSha256());
            assertNotEquals(a.weightsSha256(), c.weightsSha256());
            float[] x = new float[2 * 28 * 28];
            assertArrayEquals(a.embed(x, 2), b.embed(x, 2));
            assertEquals(2 * 128, a.embed(x, 2).length);
        }
    }

    @Test
    void modelDirectoryPriorBringsItsOwnInputAndChecksum(@TempDir Path tmp) {
        Path dir = tmp.resolve("m");
        try (Network net = Network.create("convnet-s", 1, 28, 28, 5, Device.cpu())) {
            ModelDirectory.write(dir, net, new float[] {0.25f}, new float[] {0.5f}, "random-init",
                    JsonNodeFactory.instance.objectNode());
        }
        try (Prior p = Priors.open("model:" + dir, images(3, 3, 32), Device.cpu())) {
            assertEquals("model", p.kind());
            assertArrayEquals(new float[] {0.25f}, p.input().mean());
            assertEquals(28, p.input().height());
            assertEquals(ModelDirectory.read(dir).weightsSha256(), p.weightsSha256());
        }
    }

    @Test
    void malformedSpecsAreOneLineUserErrors(@TempDir Path tmp) throws IOException {
        for (String bad : new String[] {"random:", "random:convnet-s:seven", "random:convnet-s:1:2", "random:vgg16",
                "model:" + tmp.resolve("absent"), "onnx:" + tmp.resolve("absent.onnx"), "torchscript:", "zoo:clip", "zoo:", "zoo:../coopt-core",
                "torchscript:" + tmp.resolve("x.pt") + "#not-a-name", "nonsense"}) {
            UserException e = assertThrows(UserException.class, () -> Priors.check(bad), bad);
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertThrows(UserException.class, () -> Priors.open(empty.toString(), images(1, 1, 28), Device.cpu()));
    }

    @Test
    void shippedPriorsOpenByZooNameAndDescribeThemselves() {
        assertEquals(List.of("convnet-s-byol-300s", "convnet-s-simclr-20s", "resnet-s-byol-90s"), Zoo.names());
        ImageSet data = images(3, 1, 28);
        try (Prior p = Priors.open("zoo:resnet-s-byol-90s", data, Device.cpu())) {
            assertEquals(192, p.outputDim());
            assertTrue(p.spec().contains("resnet-s-byol-90s"), p.spec());
        }
        UserException e = assertThrows(UserException.class, () -> Priors.check("zoo:nope"));
        assertTrue(e.getMessage().contains("convnet-s-byol-300s"), e.getMessage());
    }

    @Test
    void adapterKeepsSameShapeImagesAndNormalises() {
        ImageSet data = new ImageSet("s", new byte[] {0, (byte) 255, (byte) 128, 64}, 1, 1, 2, 2, null);
        InputAdapter a = new InputAdapter(data, new InputSpec(1, 2, 2, new float[] {0.5f}, new float[] {0.5f}));
        float[] out = new float[4];
        a.adapt(data, 0, out, 0);
        assertArrayEquals(new float[] {-1f, 1f, (128 / 255f - 0.5f) / 0.5f, (64 / 255f - 0.5f) / 0.5f}, out, 1e-6f);
        assertTrue(a.description().startsWith("1x2x2 -> 1x2x2"), a.description());
    }

    @Test
    void adapterResizesBilinearlyWithHalfPixelCentresAndReplicatesGray() {
        // 1x2 image [0, 200] to 1x4: source x = (x + 0.5) * 0.5 - 0.5 = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1)
        ImageSet data = new ImageSet("s", new byte[] {0, (byte) 200}, 1, 1, 1, 2, null);
        InputAdapter a = new InputAdapter(data, new InputSpec(3, 1, 4, new float[] {0, 0, 0}, new float[] {1, 1, 1}));
        float[] out = new float[12];
        a.adapt(data, 0, out, 0);
        float[] row = {0f, 50 / 255f, 150 / 255f, 200 / 255f};
        for (int c = 0; c < 3; c++) {
            for (int x = 0; x < 4; x++) {
                assertEquals(row[x], out[c * 4 + x], 1e-6f, "channel " + c + " x " + x);
            }
        }
        assertTrue(a.description().contains("gray replicated to RGB"), a.description());
        assertTrue(a.description().contains("bilinear resize"), a.description());
    }

    @Test
    void adapterTurnsRgbIntoLuma() {
        ImageSet data = new ImageSet("s", new byte[] {100, (byte) 200, 50}, 1, 3, 1, 1, null);
        InputAdapter a = new InputAdapter(data, new InputSpec(1, 1, 1, new float[] {0}, new float[] {1}));
        float[] out = new float[1];
        a.adapt(data, 0, out, 0);
        assertEquals((0.299f * 100 + 0.587f * 200 + 0.114f * 50) / 255f, out[0], 1e-6f);
    }
}
