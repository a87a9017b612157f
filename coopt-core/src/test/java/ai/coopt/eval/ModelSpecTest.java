package ai.coopt.eval;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.nn.Network;
import ai.coopt.store.ModelDirectory;
import ai.djl.Device;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelSpecTest {
    private static ImageSet images(int channels, int size) {
        byte[] px = new byte[4 * channels * size * size];
        new Random(1).nextBytes(px);
        return new ImageSet("synthetic", px, 4, channels, size, size, new int[] {0, 1, 0, 1});
    }

    @Test
    void randomSpecWithAndWithoutSeed() {
        ModelSpec a = ModelSpec.parse("random:resnet18");
        assertEquals("resnet18", a.arch());
        assertEquals(0, a.seed());
        assertNull(a.dir());
        assertEquals(42, ModelSpec.parse("random:convnet-s:42").seed());
    }

    @Test
    void malformedSpecsAreUserErrors(@TempDir Path tmp) {
        assertThrows(UserException.class, () -> ModelSpec.parse("random:"));
        assertThrows(UserException.class, () -> ModelSpec.parse("random:convnet-s:seven"));
        assertThrows(UserException.class, () -> ModelSpec.parse("random:convnet-s:1:2"));
        assertThrows(UserException.class, () -> ModelSpec.parse("random:vgg16"));
        UserException missing = assertThrows(UserException.class, () -> ModelSpec.parse("model:" + tmp.resolve("absent")));
        assertTrue(missing.getMessage().contains("random:ARCH"), missing.getMessage());
        assertThrows(UserException.class, () -> ModelSpec.parse(tmp.toString()).open(images(1, 28), Device.cpu()));
    }

    @Test
    void modelDirectoryOpensWithItsOwnNormalisationAndRefusesOtherShapes(@TempDir Path tmp) {
        Path dir = tmp.resolve("m");
        try (Network net = Network.create("convnet-s", 1, 28, 28, 5, Device.cpu())) {
            ModelDirectory.write(dir, net, new float[] {0.25f}, new float[] {0.5f}, "random-init",
                    JsonNodeFactory.instance.objectNode());
        }
        try (ModelSpec.Opened opened = ModelSpec.parse("model:" + dir).open(images(1, 28), Device.cpu())) {
            assertEquals(128, opened.network().featureDim());
            assertArrayEquals(new float[] {0.25f}, opened.normalization().mean());
            assertArrayEquals(new float[] {0.5f}, opened.normalization().std());
        }
        UserException e = assertThrows(UserException.class, () -> ModelSpec.parse(dir.toString()).open(images(3, 32), Device.cpu()));
        assertTrue(e.getMessage().contains("1x28x28"), e.getMessage());
    }
}
