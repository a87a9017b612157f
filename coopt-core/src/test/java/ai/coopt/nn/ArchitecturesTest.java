package ai.coopt.nn;

import ai.coopt.UserException;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArchitecturesTest {

    @ParameterizedTest
    @CsvSource({
        "convnet-s, 1, 28, 128", "convnet-s, 3, 32, 128",
        "resnet18, 1, 28, 512", "resnet18, 3, 32, 512",
        "resnet50, 1, 28, 2048", "resnet50, 3, 32, 2048",
        "resnet-s, 1, 28, 192", "resnet-s, 3, 32, 192",
        "mobilenetv2, 1, 28, 1280", "mobilenetv2, 3, 32, 1280",
    })
    void backboneReportsItsFeatureDimensionForOneAndThreeChannels(String arch, int channels, int size, int dim) {
        try (Network net = Network.create(arch, channels, size, size, 1, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            assertEquals(dim, net.featureDim());
            NDArray x = m.randomNormal(new Shape(2, channels, size, size));
            NDArray train = net.forward(x, true);
            NDArray infer = net.forward(x, false);
            assertEquals(new Shape(2, dim), train.getShape());
            assertEquals(new Shape(2, dim), infer.getShape());
            for (float v : infer.toFloatArray()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void sameSeedGivesSameWeightsAndOtherSeedsDiffer() {
        float[] a = outputs(7);
        assertArrayEquals(a, outputs(7));
        assertNotEquals(a[0], outputs(8)[0]);
    }

    private static float[] outputs(long seed) {
        try (Network net = Network.create("convnet-s", 1, 28, 28, seed, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            NDArray x = m.ones(new Shape(1, 1, 28, 28));
            return net.forward(x, false).toFloatArray();
        }
    }

    @Test
    void unknownArchitectureIsAUserErrorListingTheKnownOnes() {
        UserException e = assertThrows(UserException.class, () -> Architectures.create("resnet19"));
        assertTrue(e.getMessage().contains("convnet-s"), e.getMessage());
    }
}
