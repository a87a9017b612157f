package ai.coopt.store;

import ai.coopt.UserException;
import ai.coopt.nn.Architectures;
import ai.coopt.nn.Network;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelDirectoryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final float[] MEAN = {0.2860402f};
    private static final float[] STD = {0.3530239f};

    @TempDir
    Path root;

    private static ObjectNode provenance() {
        ObjectNode p = JSON.createObjectNode();
        p.put("data", "synthetic");
        p.put("seed", 7);
        p.putObject("hyper_parameters").put("lr", 0.001);
        return p;
    }

    /** A fixed input batch of 3 images, 1×28×28. */
    private static float[] input() {
        Random random = new Random(123);
        float[] x = new float[3 * 28 * 28];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    private static float[] features(Network net, float[] x) {
        try (NDManager m = net.manager().newSubManager()) {
            NDArray images = m.create(x, new Shape(3, 1, 28, 28));
            return net.forward(images, false).toFloatArray();
        }
    }

    /**
     * Writes a convnet-s whose batch-norm running statistics were moved by one training-mode pass,
     * and returns its inference-mode features of {@link #input()}.
     */
    private static float[] writeModel(Path dir) {
        try (Network net = Network.create("convnet-s", 1, 28, 28, 7, Device.cpu())) {
            try (NDManager m = net.manager().newSubManager()) {
                net.forward(m.create(input(), new Shape(3, 1, 28, 28)).mul(2).add(1), true);
            }
            ModelDirectory.write(dir, net, MEAN, STD, "random-init", provenance());
            return features(net, input());
        }
    }

    @Test
    void roundTripGivesTheSameOutputs() {
        Path dir = root.resolve("model");
        float[] expected = writeModel(dir);

        ModelDirectory model = ModelDirectory.read(dir);
        assertEquals("convnet-s", model.arch());
        assertEquals(128, model.featureDim());
        assertEquals(List.of(1, 28, 28), List.of(model.channels(), model.height(), model.width()));
        assertArrayEquals(MEAN, model.mean());
        assertArrayEquals(STD, model.std());
        assertEquals("random-init", model.method());
        assertEquals(provenance(), model.provenance());
        assertEquals(Checksums.sha256(dir.resolve("weights.safetensors")), model.weightsSha256());

        try (Network reopened = model.open(Device.cpu())) {
            float[] actual = features(reopened, input());
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-6f, "feature " + i);
            }
        }
        try (Network fresh = Network.create("convnet-s", 1, 28, 28, 0, Device.cpu())) {
            assertFalse(Arrays.equals(expected, features(fresh, input())), "weights were really loaded");
        }
    }

    /**
     * The backbones with blocks of their own (squeeze-excitation gates, self-attention, a class token) and the
     * deepest one save and load like convnet-s: same inference outputs after a round trip, every parameter restored.
     */
    @ParameterizedTest
    @ValueSource(strings = {"resnet101", "efficientnet-b0", "vit-tiny"})
    void roundTripGivesTheSameOutputsForEveryKindOfBlock(String arch) {
        Path dir = root.resolve(arch);
        float[] expected;
        try (Network net = Network.create(arch, 1, 28, 28, 7, Device.cpu())) {
            try (NDManager m = net.manager().newSubManager()) {
                net.forward(m.create(input(), new Shape(3, 1, 28, 28)).mul(2).add(1), true);
                // parameters initialised to constants (a class token) get values that a wrong load would lose
                Random random = new Random(3);
                for (var p : net.block().getParameters()) {
                    NDArray array = p.getValue().getArray();
                    if (p.getValue().getType() == Parameter.Type.OTHER) {
                        float[] v = new float[(int) array.size()];
                        for (int i = 0; i < v.length; i++) {
                            v[i] = (float) random.nextGaussian();
                        }
                        array.set(FloatBuffer.wrap(v));
                    }
                }
            }
            ModelDirectory.write(dir, net, MEAN, STD, "random-init", provenance());
            expected = features(net, input());
        }
        ModelDirectory model = ModelDirectory.read(dir);
        assertEquals(arch, model.arch());
        try (Network reopened = model.open(Device.cpu())) {
            assertEquals(expected.length, reopened.featureDim() * 3);
            float[] actual = features(reopened, input());
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-6f, arch + " feature " + i);
            }
        }
    }

    @Test
    void filesFollowTheDocumentedFormat() throws IOException {
        Path dir = root.resolve("model");
        writeModel(dir);
        try (Stream<Path> entries = Files.list(dir)) {
            assertEquals(List.of("model.json", "weights.safetensors"),
                    entries.map(p -> p.getFileName().toString()).sorted().toList());
        }
        JsonNode json = JSON.readTree(dir.resolve("model.json").toFile());
        assertEquals("coopt-model/1", json.get("format").asText());
        assertEquals("convnet-s", json.get("arch").asText());
        assertEquals(128, json.get("feature_dim").asInt());
        assertEquals(1, json.get("input").get("channels").asInt());
        assertEquals(1, json.get("normalization").get("mean").size());
        assertEquals("weights.safetensors", json.get("weights").get("file").asText());
        assertEquals(Checksums.sha256(dir.resolve("weights.safetensors")), json.get("weights").get("sha256").asText());

        TensorFile weights = SafeTensors.read(dir.resolve("weights.safetensors"));
        try (Network net = Network.create("convnet-s", 1, 28, 28, 7, Device.cpu())) {
            assertEquals(net.block().getParameters().keys(), List.copyOf(weights.tensors().keySet()));
        }
        assertArrayEquals(new long[] {32, 1, 3, 3}, weights.f32("01SequentialBlock_01Conv2d_weight").shape());
        assertTrue(weights.tensors().containsKey("01SequentialBlock_02BatchNorm_runningMean"));
    }

    @Test
    void everyArchitectureHasUniqueParameterNames() {
        for (String arch : Architectures.names()) {
            try (Network net = Network.create(arch, 3, 32, 32, 1, Device.cpu())) {
                List<String> names = net.block().getParameters().keys();
                assertEquals(names.size(), new HashSet<>(names).size(), arch);
            }
        }
    }

    @Test
    void tamperedWeightsFailTheChecksum() throws IOException {
        Path dir = root.resolve("model");
        writeModel(dir);
        Path weights = dir.resolve("weights.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        bytes[bytes.length - 1] ^= 1;
        Files.write(weights, bytes);
        UserException e = assertThrows(UserException.class, () -> ModelDirectory.read(dir));
        assertTrue(e.getMessage().startsWith(dir + ": checksum mismatch: weights.safetensors was modified or is corrupt"),
                e.getMessage());
    }

    @Test
    void missingModelJson() throws IOException {
        Path dir = Files.createDirectory(root.resolve("empty"));
        UserException e = assertThrows(UserException.class, () -> ModelDirectory.read(dir));
        assertEquals(dir + ": not a CoOpt model directory (no model.json)", e.getMessage());
        Path absent = root.resolve("absent");
        assertEquals(absent + ": no such directory",
                assertThrows(UserException.class, () -> ModelDirectory.read(absent)).getMessage());
    }

    @Test
    void missingWeights() throws IOException {
        Path dir = root.resolve("model");
        writeModel(dir);
        Files.delete(dir.resolve("weights.safetensors"));
        UserException e = assertThrows(UserException.class, () -> ModelDirectory.read(dir));
        assertTrue(e.getMessage().contains("weights.safetensors: missing"), e.getMessage());
    }

    @Test
    void invalidDescriptions() throws IOException {
        Path dir = root.resolve("model");
        writeModel(dir);
        Path file = dir.resolve("model.json");
        ObjectNode good = (ObjectNode) JSON.readTree(file.toFile());

        assertInvalid(dir, "{ not json", "not valid JSON");
        assertEditInvalid(dir, good, j -> j.put("format", "coopt-model/2"), "unsupported format");
        assertEditInvalid(dir, good, j -> j.remove("format"), "no \"format\" field");
        assertEditInvalid(dir, good, j -> j.remove("arch"), "missing field 'arch'");
        assertEditInvalid(dir, good, j -> j.put("arch", "vgg"), "unknown architecture 'vgg'");
        assertEditInvalid(dir, good, j -> j.withObjectProperty("input").put("height", -28),
                "field 'input.height' must be a positive integer");
        assertEditInvalid(dir, good, j -> j.withObjectProperty("normalization").putArray("std").add(0),
                "'normalization.std' must hold positive numbers");
        assertEditInvalid(dir, good, j -> j.withObjectProperty("weights").put("file", "../elsewhere"),
                "must be a file name inside the directory");
        assertEditInvalid(dir, good, j -> j.withObjectProperty("weights").remove("sha256"), ": missing field 'weights.sha256'");
        assertEditInvalid(dir, good, j -> j.withObjectProperty("input").put("depth", 1),
                ": unknown field 'input.depth' (expected channels, height, width)");
        assertEditInvalid(dir, good, j -> j.put("feature_dim", "128"), ": field 'feature_dim' must be an integer, found \"128\"");
        assertEditInvalid(dir, good, j -> j.withObjectProperty("normalization").putArray("mean").add("NaN"),
                ": field 'normalization.mean' must hold finite numbers, found NaN");
        assertEditInvalid(dir, good, j -> j.withObjectProperty("normalization").putArray("mean").add(0.5).add(0.5),
                ": field 'normalization.mean' must be an array of 1 numbers");
        assertEditInvalid(dir, good, j -> j.putNull("provenance"), ": field 'provenance' must be a JSON object, found null");
        assertEditInvalid(dir, good, j -> j.putArray("provenance"), ": field 'provenance' must be a JSON object, found []");
        assertInvalid(dir, good.toString().replace("\"method\":", "\"method\":\"x\",\"method\":"),
                "is not valid JSON (duplicate field 'method' at line 1");
    }

    /** The priors shipped in priors/, written by the hand-written writer of commit acfd806. */
    private static final List<String> SHIPPED = List.of("convnet-s-byol-300s", "convnet-s-simclr-20s", "resnet-s-byol-90s");

    @Test
    void shippedPriorsStillLoad() {
        for (String name : SHIPPED) {
            ModelDirectory model = ModelDirectory.read(Path.of("..", "priors", name));
            assertEquals(name.substring(0, name.indexOf("-", name.indexOf("-") + 1)), model.arch(), name);
            assertEquals(List.of(1, 28, 28), List.of(model.channels(), model.height(), model.width()), name);
            // free-form provenance is kept as written: camelCase settings and nulls included
            assertTrue(model.provenance().get("targets").isNull(), name);
            assertTrue(model.provenance().at("/hyper_parameters/augmentation/scaleMin").isNumber(), name);
            model.verify();
        }
    }

    @Test
    void rewritingAShippedPriorGivesItsModelJsonByteForByte() throws IOException {
        Path shipped = Path.of("..", "priors", SHIPPED.get(0));
        ModelDirectory model = ModelDirectory.read(shipped);
        Path copy = root.resolve("copy");
        try (Network net = model.open(Device.cpu())) {
            ModelDirectory.write(copy, net, model.mean(), model.std(), model.method(), model.provenance());
        }
        String written = Files.readString(copy.resolve("model.json"))
                .replace(ModelDirectory.read(copy).weightsSha256(), model.weightsSha256());
        assertEquals(Files.readString(shipped.resolve("model.json")), written);
    }

    @Test
    void weightsThatDoNotFitTheArchitectureAreRefusedOnOpen() throws IOException {
        Path dir = root.resolve("model");
        writeModel(dir);
        Path file = dir.resolve("model.json");
        ObjectNode json = (ObjectNode) JSON.readTree(file.toFile());
        json.withObjectProperty("input").put("channels", 3);
        json.withObjectProperty("normalization").putArray("mean").add(0.5).add(0.5).add(0.5);
        json.withObjectProperty("normalization").putArray("std").add(0.5).add(0.5).add(0.5);
        Files.writeString(file, json.toString());
        ModelDirectory model = ModelDirectory.read(dir);
        UserException e = assertThrows(UserException.class, () -> model.open(Device.cpu()));
        assertTrue(e.getMessage().contains("has shape [32, 1, 3, 3], convnet-s expects [32, 3, 3, 3]"), e.getMessage());
    }

    @Test
    void writeRefusesToReplaceADirectoryOfAnotherKind() throws IOException {
        Path dir = Files.createDirectory(root.resolve("data"));
        Files.writeString(dir.resolve("keep.txt"), "precious");
        try (Network net = Network.create("convnet-s", 1, 28, 28, 7, Device.cpu())) {
            assertThrows(UserException.class, () -> ModelDirectory.write(dir, net, MEAN, STD, "random-init", provenance()));
        }
        assertEquals("precious", Files.readString(dir.resolve("keep.txt")));
    }

    @Test
    void writeReplacesAnEarlierModel() {
        Path dir = root.resolve("model");
        writeModel(dir);
        try (Network net = Network.create("convnet-s", 1, 28, 28, 8, Device.cpu())) {
            ModelDirectory.write(dir, net, MEAN, STD, "byol", provenance());
        }
        assertEquals("byol", ModelDirectory.read(dir).method());
    }

    @Test
    void normalisationMustFitTheChannels() {
        try (Network net = Network.create("convnet-s", 1, 28, 28, 7, Device.cpu())) {
            assertThrows(IllegalArgumentException.class, () -> ModelDirectory.write(root.resolve("m"), net,
                    new float[] {0.5f, 0.5f, 0.5f}, new float[] {1f, 1f, 1f}, "random-init", provenance()));
        }
    }

    private static void assertEditInvalid(Path dir, ObjectNode good, Consumer<ObjectNode> edit, String expected)
            throws IOException {
        ObjectNode json = good.deepCopy();
        edit.accept(json);
        assertInvalid(dir, json.toString(), expected);
    }

    private static void assertInvalid(Path dir, String modelJson, String expected) throws IOException {
        Files.writeString(dir.resolve("model.json"), modelJson);
        UserException e = assertThrows(UserException.class, () -> ModelDirectory.read(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("model.json") + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
