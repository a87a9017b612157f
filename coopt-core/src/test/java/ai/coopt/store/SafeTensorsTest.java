package ai.coopt.store;

import ai.coopt.UserException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path dir;

    private static LinkedHashMap<String, Tensor> sample() {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("targets", new Tensor.F32(new long[] {2, 3}, new float[] {1f, -2.5f, 3.25f, Float.MIN_VALUE, -0f, 1e30f}));
        tensors.put("ids", new Tensor.I64(new long[] {2}, new long[] {7, Long.MAX_VALUE}));
        tensors.put("counts", new Tensor.I32(new long[] {3}, new int[] {-1, 0, Integer.MAX_VALUE}));
        tensors.put("scalar", new Tensor.F32(new long[] {}, new float[] {42f}));
        tensors.put("empty", new Tensor.F32(new long[] {0, 4}, new float[0]));
        return tensors;
    }

    @Test
    void roundTripKeepsDtypesShapesDataAndMetadata() {
        Path file = dir.resolve("t.safetensors");
        SafeTensors.write(file, sample(), Map.of("source", "unit test", "count", "2"));

        TensorFile read = SafeTensors.read(file);
        assertEquals(List.of("targets", "ids", "counts", "scalar", "empty"), List.copyOf(read.tensors().keySet()));
        assertArrayEquals(new long[] {2, 3}, read.f32("targets").shape());
        assertArrayEquals(((Tensor.F32) sample().get("targets")).data(), read.f32("targets").data());
        assertArrayEquals(new long[] {7, Long.MAX_VALUE}, read.i64("ids").data());
        assertArrayEquals(new int[] {-1, 0, Integer.MAX_VALUE}, read.i32("counts").data());
        assertArrayEquals(new long[] {}, read.f32("scalar").shape());
        assertArrayEquals(new long[] {0, 4}, read.f32("empty").shape());
        assertEquals(Map.of("source", "unit test", "count", "2"), read.metadata());
    }

    @Test
    void identicalInputGivesIdenticalBytes() throws IOException {
        Map<String, String> meta = new HashMap<>();
        meta.put("zeta", "1");
        meta.put("alpha", "2");
        Map<String, String> sameMetaOtherOrder = new LinkedHashMap<>();
        sameMetaOtherOrder.put("alpha", "2");
        sameMetaOtherOrder.put("zeta", "1");
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        SafeTensors.write(a, sample(), meta);
        SafeTensors.write(b, sample(), sameMetaOtherOrder);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        byte[] first = Files.readAllBytes(a);
        SafeTensors.write(a, sample(), meta);
        assertArrayEquals(first, Files.readAllBytes(a));
    }

    @Test
    void writerFollowsTheSpecByteForByte() throws IOException {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", new Tensor.F32(new long[] {2}, new float[] {1.5f, -2f}));
        tensors.put("i", new Tensor.I64(new long[] {1}, new long[] {258}));
        Path file = dir.resolve("spec.safetensors");
        SafeTensors.write(file, tensors, Map.of());

        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long n = bytes.getLong(0);
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes.array(), 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"));
        assertEquals(header.strip(), header.substring(0, header.strip().length()), "padding is trailing spaces");
        JsonNode json = new ObjectMapper().readTree(header);
        assertEquals("F32", json.get("w").get("dtype").asText());
        assertEquals("[0,8]", json.get("w").get("data_offsets").toString());
        assertEquals("[8,16]", json.get("i").get("data_offsets").toString());
        assertEquals("[1]", json.get("i").get("shape").toString());
        assertFalse(json.has(SafeTensors.METADATA_KEY), "no metadata entry when there is none");
        int data = 8 + (int) n;
        assertEquals(data + 16, bytes.capacity());
        assertEquals(1.5f, bytes.getFloat(data));
        assertEquals(-2f, bytes.getFloat(data + 4));
        assertEquals(258L, bytes.getLong(data + 8));
        assertEquals(2, bytes.get(data + 8), "little-endian");
    }

    @Test
    void readsAHandMadeFile() throws IOException {
        String header = "{\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[8,24]},"
                + "\"__metadata__\":{\"k\":\"v\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}";
        ByteBuffer data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(0.5f).putFloat(-3f).putLong(-1L).putLong(1L << 40);
        Path file = dir.resolve("hand.safetensors");
        Files.write(file, file(header, data.array()));

        TensorFile read = SafeTensors.read(file);
        assertEquals(List.of("a", "b"), List.copyOf(read.tensors().keySet()), "ordered by data offset");
        assertArrayEquals(new long[] {1, 2}, read.f32("a").shape());
        assertArrayEquals(new float[] {0.5f, -3f}, read.f32("a").data());
        assertArrayEquals(new long[] {-1L, 1L << 40}, read.i64("b").data());
        assertEquals(Map.of("k", "v"), read.metadata());
    }

    @Test
    void largeTensorsCrossChunkBoundaries() {
        float[] values = new float[700_001];
        long[] ids = new long[300_003];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f - 7f;
        }
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (long) i * i;
        }
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("targets", new Tensor.F32(new long[] {values.length}, values));
        tensors.put("ids", new Tensor.I64(new long[] {ids.length}, ids));
        Path file = dir.resolve("big.safetensors");
        SafeTensors.write(file, tensors, Map.of());
        TensorFile read = SafeTensors.read(file);
        assertArrayEquals(values, read.f32("targets").data());
        assertArrayEquals(ids, read.i64("ids").data());
    }

    @Test
    void rewriteReplacesTheFileAndLeavesNoTemporaries() throws IOException {
        Path file = dir.resolve("t.safetensors");
        SafeTensors.write(file, sample(), Map.of());
        LinkedHashMap<String, Tensor> other = new LinkedHashMap<>();
        other.put("x", new Tensor.I32(new long[] {1}, new int[] {5}));
        SafeTensors.write(file, other, Map.of());
        assertEquals(List.of("x"), List.copyOf(SafeTensors.read(file).tensors().keySet()));
        try (Stream<Path> entries = Files.list(dir)) {
            assertEquals(List.of(file), entries.toList());
        }
    }

    @Test
    void typedAccessorsReportMissingAndMistypedTensors() {
        Path file = dir.resolve("t.safetensors");
        SafeTensors.write(file, sample(), Map.of());
        TensorFile read = SafeTensors.read(file);
        assertMessage(assertThrows(UserException.class, () -> read.f32("nope")), file, "no tensor named 'nope'");
        assertMessage(assertThrows(UserException.class, () -> read.f32("ids")), file, "'ids' is I64, expected F32");
    }

    @Test
    void invalidTensorNamesAreProgrammingErrors() {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put(SafeTensors.METADATA_KEY, new Tensor.I32(new long[] {1}, new int[] {1}));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(dir.resolve("x"), tensors, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new Tensor.F32(new long[] {2, 2}, new float[3]));
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("absent.safetensors");
        assertMessage(assertThrows(UserException.class, () -> SafeTensors.read(file)), file, "no such file");
    }

    @Test
    void fileShorterThanEightBytes() throws IOException {
        assertCorrupt(new byte[] {1, 0, 0}, "too short");
    }

    @Test
    void headerLengthBeyondFileSize() throws IOException {
        byte[] good = goodFile();
        ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).putLong(0, good.length);
        assertCorrupt(good, "exceeds the file size");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        byte[] good = goodFile();
        ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        assertCorrupt(good, "absurd");
        ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).putLong(0, SafeTensors.MAX_HEADER_BYTES + 1);
        assertCorrupt(good, "absurd");
    }

    @Test
    void truncatedData() throws IOException {
        byte[] good = goodFile();
        assertCorrupt(Arrays.copyOf(good, good.length - 4), "truncated");
    }

    @Test
    void trailingGarbage() throws IOException {
        byte[] good = goodFile();
        assertCorrupt(Arrays.copyOf(good, good.length + 8), "trailing");
    }

    @Test
    void headerNotJson() throws IOException {
        assertCorrupt(file("{\"a\": [1, 2", new byte[0]), "not valid JSON");
        assertCorrupt(file("[1, 2]", new byte[0]), "not a JSON object");
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", new byte[4]), "not valid JSON");
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "not valid JSON");
        byte[] badUtf8 = file("{\"\u00e9\":1}", new byte[0]);
        badUtf8[10] = (byte) 0xff;
        assertCorrupt(badUtf8, "not valid JSON");
    }

    @Test
    void unknownDtype() throws IOException {
        assertCorrupt(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]),
                "unsupported dtype 'BF16'");
    }

    @Test
    void malformedShapeOrOffsets() throws IOException {
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]), "shape");
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]), "data_offsets");
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", new byte[4]), "end before");
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]), "shape");
        assertCorrupt(file("{\"a\":3}", new byte[0]), "JSON object");
        assertCorrupt(file("{\"__metadata__\":{\"k\":1}}", new byte[0]), "not a string");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4]), "out of range");
    }

    @Test
    void overlappingOffsets() throws IOException {
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]), "overlaps");
    }

    @Test
    void gapBetweenTensors() throws IOException {
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12]), "gap");
    }

    @Test
    void shapeDisagreesWithOffsetSpan() throws IOException {
        assertCorrupt(file("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]),
                "data_offsets span 4 bytes");
    }

    @Test
    void absurdShapeOverflows() throws IOException {
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[9223372036854775807,4],\"data_offsets\":[0,4]}}",
                new byte[4]), "impossibly large");
    }

    /** A valid file holding two F32 values. */
    private static byte[] goodFile() {
        return file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]);
    }

    /** Length prefix + header padded with spaces to a multiple of 8 + data, assembled by hand. */
    private static byte[] file(String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        while (out.position() < 8 + padded) {
            out.put((byte) ' ');
        }
        out.put(data);
        return out.array();
    }

    private void assertCorrupt(byte[] bytes, String expected) throws IOException {
        Path file = dir.resolve("corrupt.safetensors");
        Files.write(file, bytes);
        assertMessage(assertThrows(UserException.class, () -> SafeTensors.read(file)), file, expected);
    }

    private static void assertMessage(UserException e, Path file, String expected) {
        String message = e.getMessage();
        assertTrue(message.startsWith(file + ": "), message);
        assertTrue(message.contains(expected), message);
        assertFalse(message.contains("\n"), "one line: " + message);
    }
}
