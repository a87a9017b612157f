package ai.coopt.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one safetensors header: what every file and every upload is checked by. */
class SafeTensorsHeaderTest {
    @TempDir
    Path dir;

    @Test
    void pixelsRoundTripAsU8() throws Exception {
        byte[] pixels = {0, 1, (byte) 127, (byte) 128, (byte) 255, 42};
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("ids", new Tensor.I64(new long[] {2}, new long[] {3, 9}));
        tensors.put("images", new Tensor.U8(new long[] {2, 1, 1, 3}, pixels));
        Path file = dir.resolve("images.safetensors");
        SafeTensors.write(file, tensors, Map.of());

        TensorFile read = SafeTensors.read(file);
        Tensor.U8 images = (Tensor.U8) read.tensors().get("images");
        assertArrayEquals(pixels, images.data());
        assertArrayEquals(new long[] {2, 1, 1, 3}, images.shape());
        assertEquals(255, Byte.toUnsignedInt(images.data()[4]));
        // the layout as any safetensors reader sees it: U8 takes one byte an element, after the ids
        byte[] bytes = Files.readAllBytes(file);
        String json = new String(bytes, 8, (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(),
                StandardCharsets.UTF_8);
        assertTrue(json.contains("\"images\":{\"dtype\":\"U8\",\"shape\":[2,1,1,3],\"data_offsets\":[16,22]}"), json);
    }

    @Test
    void metadataGoesBeforeOrAfterTheTensorsAsAsked() {
        LinkedHashMap<String, SafeTensors.Spec> specs = new LinkedHashMap<>();
        specs.put("ids", new SafeTensors.Spec(DType.I64, new long[] {1}));
        String before = header(SafeTensorsHeader.write(specs, Map.of("format", "x"), false));
        String after = header(SafeTensorsHeader.write(specs, Map.of("format", "x"), true));
        assertEquals("{\"__metadata__\":{\"format\":\"x\"},\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                before.strip());
        assertEquals("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},\"__metadata__\":{\"format\":\"x\"}}",
                after.strip());
        byte[] bytes = SafeTensorsHeader.write(specs, Map.of(), true);
        assertEquals(0, (bytes.length - 8) % 8, "padded to a multiple of 8");
        assertEquals(bytes.length - 8, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    @Test
    void aTypeThisProjectDoesNotKnowIsParsedAndLeftToTheReader() {
        String json = "{\"outputs\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
        SafeTensorsHeader.Parsed p = SafeTensorsHeader.parse(json.getBytes(StandardCharsets.UTF_8));
        SafeTensorsHeader.Declared outputs = p.tensors().get("outputs");
        assertEquals("F16", outputs.dtype());
        assertNull(outputs.type());
        assertEquals(24, p.dataBytes());
    }

    @Test
    void whatAHeaderMayNotHoldIsRefusedWithABoundedReason() {
        String longName = "x".repeat(5000);
        for (String json : List.of(
                "{\"" + longName + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"" + longName + "\":1}}",
                "{\"a\":{\"dtype\":\"" + longName + "\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":7}",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"" + longName + "\"],\"data_offsets\":[0,4]}}",
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,4]}}",
                "[" + "[".repeat(3000) + "]".repeat(3000) + "]")) {
            SafeTensorsHeader.Malformed e = assertThrows(SafeTensorsHeader.Malformed.class,
                    () -> SafeTensorsHeader.parse(json.getBytes(StandardCharsets.UTF_8)),
                    () -> json.substring(0, Math.min(60, json.length())));
            assertTrue(e.getMessage().length() < 400, () -> e.getMessage().length() + " characters: "
                    + e.getMessage().substring(0, 200));
        }
    }

    @Test
    void theLengthIsCheckedBeforeAnythingIsRead() {
        byte[] first8 = new byte[8];
        ByteBuffer.wrap(first8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L);
        SafeTensorsHeader.Malformed huge = assertThrows(SafeTensorsHeader.Malformed.class,
                () -> SafeTensorsHeader.length(first8, 1000, 64));
        assertTrue(huge.getMessage().contains("18446744073709551615"), huge.getMessage());
        ByteBuffer.wrap(first8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 60);
        assertThrows(SafeTensorsHeader.Malformed.class, () -> SafeTensorsHeader.length(first8, 59, 64),
                "longer than what follows");
        assertEquals(60, SafeTensorsHeader.length(first8, 60, 64));
        assertEquals("x".repeat(80) + "…", SafeTensorsHeader.quote("x".repeat(81)));
    }

    private static String header(byte[] bytes) {
        return new String(bytes, 8, bytes.length - 8, StandardCharsets.UTF_8);
    }
}
