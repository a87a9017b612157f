package ai.coopt.prior;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The FILE.pt.json / FILE.onnx.json sidecar, read without loading the model. */
class PriorSidecarTest {
    @TempDir
    Path dir;

    private InputSpec read(String sidecar) throws IOException {
        Path model = dir.resolve("m.onnx");
        Files.writeString(dir.resolve("m.onnx.json"), sidecar);
        return PriorSidecar.inputFor(model, 3, 224, 224);
    }

    @Test
    void theFixtureSidecarAndItsParts() throws IOException {
        InputSpec fixture = PriorSidecar.inputFor(PriorFixtures.file("tiny_cnn.pt"), 1, 8, 8);
        assertEquals("3x32x32 mean [0.5, 0.5, 0.5] std [0.25, 0.25, 0.25]", fixture.toString());

        assertEquals(InputSpec.imagenet(224, 224).toString(), PriorSidecar.inputFor(dir.resolve("none.pt"), 3, 224, 224).toString());
        assertEquals(InputSpec.imagenet(64, 48).toString(),
                read("{\"input\": {\"channels\": 3, \"height\": 64, \"width\": 48}}").toString());
        InputSpec onlyNormalization = read("{\"normalization\": {\"mean\": [0, 0, 0], \"std\": [1, 1, 1]}}");
        assertEquals(224, onlyNormalization.height());
        assertArrayEquals(new float[] {1, 1, 1}, onlyNormalization.std());
        assertEquals(1, read("{\"input\": {\"channels\": 1, \"height\": 28, \"width\": 28}}").mean().length);
        assertEquals(InputSpec.imagenet(224, 224).toString(), read("{}").toString());
    }

    @Test
    void badSidecarsAreOneLineErrorsNamingTheField() throws IOException {
        Path file = dir.resolve("m.onnx.json");
        assertRefused("{\"normalisation\": {}}", file + ": unknown field 'normalisation' (expected input, normalization)");
        assertRefused("{\"input\": {\"channels\": 2, \"height\": 32, \"width\": 32}}",
                file + ": field 'input.channels' must be 1 or 3, found 2");
        assertRefused("{\"input\": {\"channels\": 3, \"height\": \"32\", \"width\": 32}}",
                file + ": field 'input.height' must be an integer, found \"32\"");
        assertRefused("{\"input\": {\"channels\": 3, \"width\": 32}}", file + ": missing field 'input.height'");
        assertRefused("{\"normalization\": {\"mean\": [0.5], \"std\": [1, 1, 1]}}",
                file + ": field 'normalization.mean' must be an array of 3 numbers (one per channel)");
        assertRefused("{\"normalization\": {\"mean\": [0, 0, 0], \"std\": [1, 0, 1]}}",
                file + ": field 'normalization.std' must hold positive numbers, found 0.0");
        assertRefused("{\"input\": {\"channels\": 3, \"height\": 100000, \"width\": 224}}",
                file + ": input 100000x224 is beyond the 8192 pixels a side coopt feeds a model");
        assertRefused("[]", file + ": the file must be a JSON object, found []");
    }

    private void assertRefused(String sidecar, String message) {
        UserException e = assertThrows(UserException.class, () -> read(sidecar));
        assertEquals(message, e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
