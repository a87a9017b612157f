package ai.coopt.prior;

import ai.coopt.UserException;
import ai.coopt.store.Checksums;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxPriorTest {
    private static final String MNIST = "tiny_mnist.onnx";
    private static final String DYNAMIC = "tiny_dynamic.onnx";

    @TempDir
    Path dir;

    private static void assertOneLine(UserException e, String... parts) {
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void outputMatchesPyTorch() {
        JsonNode expected = PriorFixtures.expected(MNIST);
        Path file = PriorFixtures.file(MNIST);
        try (OnnxPrior prior = OnnxPrior.open(file)) {
            assertEquals("onnx", prior.kind());
            assertEquals("onnx:" + file.toAbsolutePath().normalize(), prior.spec());
            assertEquals(10, prior.outputDim());
            assertEquals(Checksums.sha256(file), prior.weightsSha256());
            float[] out = prior.embed(PriorFixtures.input(expected), PriorFixtures.batch(expected));
            PriorFixtures.assertRows(expected.get("output"), out);
        }
    }

    @Test
    void declaredStaticShapeIsTheDefaultInput() {
        try (OnnxPrior prior = OnnxPrior.open(PriorFixtures.file(MNIST))) {
            InputSpec input = prior.input();
            assertEquals(1, input.channels());
            assertEquals(28, input.height());
            assertEquals(28, input.width());
            assertArrayEquals(new float[] {(0.485f + 0.456f + 0.406f) / 3}, input.mean());
            assertArrayEquals(new float[] {(0.229f + 0.224f + 0.225f) / 3}, input.std());
        }
    }

    @Test
    void withoutDeclaredSizeTheInputIsImageNetSized() {
        try (OnnxPrior prior = OnnxPrior.open(PriorFixtures.file(DYNAMIC))) {
            assertEquals(InputSpec.imagenet(224, 224).toString(), prior.input().toString());
            assertEquals(6, prior.outputDim());
        }
    }

    @Test
    void sidecarSetsInputAndOutputStillMatches() throws IOException {
        Path copy = PriorFixtures.copy(DYNAMIC, dir);
        Files.writeString(dir.resolve(DYNAMIC + ".json"),
                "{\"input\": {\"channels\": 3, \"height\": 20, \"width\": 24},"
                + " \"normalization\": {\"mean\": [0.1, 0.2, 0.3], \"std\": [0.4, 0.5, 0.6]}}");
        JsonNode expected = PriorFixtures.expected(DYNAMIC);
        try (OnnxPrior prior = OnnxPrior.open(copy)) {
            InputSpec input = prior.input();
            assertEquals(20, input.height());
            assertEquals(24, input.width());
            assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f}, input.mean());
            assertArrayEquals(new float[] {0.4f, 0.5f, 0.6f}, input.std());
            float[] out = prior.embed(PriorFixtures.input(expected), PriorFixtures.batch(expected));
            PriorFixtures.assertRows(expected.get("output"), out);
        }
    }

    @Test
    void sidecarContradictingTheDeclaredShapeIsAUserError() throws IOException {
        Path copy = PriorFixtures.copy(MNIST, dir);
        Path sidecar = dir.resolve(MNIST + ".json");
        Files.writeString(sidecar, "{\"input\": {\"channels\": 1, \"height\": 32, \"width\": 32}}");
        UserException e = assertThrows(UserException.class, () -> OnnxPrior.open(copy));
        assertOneLine(e, sidecar.toString(), "1x32x32", "1x28x28");
    }

    @Test
    void garbageFileIsAUserError() throws IOException {
        Path garbage = Files.writeString(dir.resolve("x.onnx"), "not an ONNX model\n");
        UserException e = assertThrows(UserException.class, () -> OnnxPrior.open(garbage));
        assertOneLine(e, garbage.toString(), "ONNX");
    }

    @Test
    void missingFileIsAUserError() {
        Path missing = dir.resolve("missing.onnx");
        UserException e = assertThrows(UserException.class, () -> OnnxPrior.open(missing));
        assertOneLine(e, missing.toString(), "no such file");
    }

    @Test
    void directoryIsAUserError() {
        UserException e = assertThrows(UserException.class, () -> OnnxPrior.open(dir));
        assertOneLine(e, dir.toString(), "not a model file");
    }
}
