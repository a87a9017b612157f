package ai.coopt.prior;

import ai.coopt.UserException;
import ai.coopt.store.Checksums;
import ai.djl.Device;
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

class TorchScriptPriorTest {
    private static final String CNN = "tiny_cnn.pt";

    @TempDir
    Path dir;

    private static TorchScriptPrior open(Path file, String method) {
        return TorchScriptPrior.open(file, method, Device.cpu());
    }

    private static void assertOneLine(UserException e, String... parts) {
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void forwardMatchesPyTorch() {
        JsonNode expected = PriorFixtures.expected(CNN);
        Path file = PriorFixtures.file(CNN);
        try (TorchScriptPrior prior = open(file, null)) {
            assertEquals("torchscript", prior.kind());
            assertEquals("torchscript:" + file.toAbsolutePath().normalize(), prior.spec());
            assertEquals(16, prior.outputDim());
            assertEquals(Checksums.sha256(file), prior.weightsSha256());
            float[] out = prior.embed(PriorFixtures.input(expected), PriorFixtures.batch(expected));
            PriorFixtures.assertRows(expected.get("forward"), out);
        }
    }

    @Test
    void namedMethodMatchesPyTorch() {
        JsonNode expected = PriorFixtures.expected(CNN);
        Path file = PriorFixtures.file(CNN);
        try (TorchScriptPrior prior = open(file, "encode_image")) {
            assertEquals("torchscript:" + file.toAbsolutePath().normalize() + "#encode_image", prior.spec());
            assertEquals(12, prior.outputDim());
            float[] out = prior.embed(PriorFixtures.input(expected), PriorFixtures.batch(expected));
            PriorFixtures.assertRows(expected.get("encode_image"), out);
        }
    }

    @Test
    void explicitForwardHasTheCanonicalSpec() {
        Path file = PriorFixtures.file(CNN);
        try (TorchScriptPrior prior = open(file, "forward")) {
            assertEquals("torchscript:" + file.toAbsolutePath().normalize(), prior.spec());
        }
    }

    @Test
    void inputComesFromTheSidecar() {
        try (TorchScriptPrior prior = open(PriorFixtures.file(CNN), null)) {
            InputSpec input = prior.input();
            assertEquals(3, input.channels());
            assertEquals(32, input.height());
            assertEquals(32, input.width());
            assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, input.mean());
            assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f}, input.std());
        }
    }

    @Test
    void withoutSidecarTheInputIsImageNetSized() throws IOException {
        Path copy = PriorFixtures.copy(CNN, dir);
        try (TorchScriptPrior prior = open(copy, null)) {
            InputSpec imagenet = InputSpec.imagenet(224, 224);
            assertEquals(imagenet.toString(), prior.input().toString());
            assertEquals(16, prior.outputDim());
            assertEquals(16, prior.embed(new float[3 * 224 * 224], 1).length);
        }
    }

    @Test
    void sidecarWithOnlyNormalizationKeepsTheDefaultSize() throws IOException {
        Path copy = PriorFixtures.copy(CNN, dir);
        Files.writeString(dir.resolve(CNN + ".json"), "{\"normalization\": {\"mean\": [0, 0, 0], \"std\": [1, 1, 1]}}");
        try (TorchScriptPrior prior = open(copy, null)) {
            assertEquals(224, prior.input().height());
            assertArrayEquals(new float[] {1, 1, 1}, prior.input().std());
        }
    }

    @Test
    void badSidecarIsAUserError() throws IOException {
        Path copy = PriorFixtures.copy(CNN, dir);
        Path sidecar = dir.resolve(CNN + ".json");
        Files.writeString(sidecar, "{\"normalisation\": {}}");
        assertOneLine(assertThrows(UserException.class, () -> open(copy, null)), sidecar.toString(), "normalisation");
        Files.writeString(sidecar, "{\"input\": {\"channels\": 3, \"height\": 32, \"width\": 32},"
                + " \"normalization\": {\"mean\": [0.5], \"std\": [1, 1, 1]}}");
        assertOneLine(assertThrows(UserException.class, () -> open(copy, null)), sidecar.toString(), "mean");
        Files.writeString(sidecar, "{\"input\": ");
        assertOneLine(assertThrows(UserException.class, () -> open(copy, null)), sidecar.toString(), "JSON");
        Files.writeString(sidecar, "{\"input\": {\"channels\": 3, \"height\": 100000, \"width\": 224}}");
        assertOneLine(assertThrows(UserException.class, () -> open(copy, null)), sidecar.toString(), "100000x224");
    }

    @Test
    void unknownMethodIsAUserError() {
        UserException e = assertThrows(UserException.class, () -> open(PriorFixtures.file(CNN), "encode_text"));
        assertOneLine(e, CNN, "encode_text", "encode_image");
    }

    @Test
    void fourDimensionalOutputIsAUserError() {
        UserException e = assertThrows(UserException.class, () -> open(PriorFixtures.file("tiny_cnn_bad.pt"), null));
        assertOneLine(e, "tiny_cnn_bad.pt", "2-D [batch, dim]", "(2, 8, 4, 4) float32");
    }

    @Test
    void garbageFileIsAUserError() throws IOException {
        Path garbage = Files.writeString(dir.resolve("x.pt"), "not a TorchScript archive\n");
        UserException e = assertThrows(UserException.class, () -> open(garbage, null));
        assertOneLine(e, garbage.toString(), "TorchScript");
    }

    @Test
    void missingFileIsAUserError() {
        Path missing = dir.resolve("missing.pt");
        UserException e = assertThrows(UserException.class, () -> open(missing, null));
        assertOneLine(e, missing.toString(), "no such file");
    }

    @Test
    void modelFailureIsAOneLineUserError() throws IOException {
        Path copy = PriorFixtures.copy(CNN, dir);
        Files.writeString(dir.resolve(CNN + ".json"), "{\"input\": {\"channels\": 1, \"height\": 8, \"width\": 8}}");
        UserException e = assertThrows(UserException.class, () -> open(copy, null));
        assertOneLine(e, copy.toString(), "forward failed", "(2, 1, 8, 8)");
    }

    @Test
    void wrongNumberOfFloatsIsRejected() {
        try (TorchScriptPrior prior = open(PriorFixtures.file(CNN), null)) {
            assertThrows(IllegalArgumentException.class, () -> prior.embed(new float[10], 1));
        }
    }
}
