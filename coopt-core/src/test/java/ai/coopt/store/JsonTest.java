package ai.coopt.store;

import ai.coopt.UserException;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.NullNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one mapper: records as snake_case JSON objects, and every malformed field a one-line error naming it. */
class JsonTest {
    record Inner(int size) {
        Inner {
            if (size < 0) {
                throw new Json.BadField("size", "must not be negative, found " + size);
            }
            if (size == 13) {
                throw new IllegalArgumentException("13 is unlucky");
            }
        }
    }

    record Doc(int x, long id, double weight, String name, boolean on, Instant time, List<Double> values,
               @JsonSetter(nulls = Nulls.SET) Integer maybe, int skippedImages, Inner inner, List<Inner> inners) {}

    private static final Map<String, JsonNode> OPTIONAL = Map.of(
            "/maybe", NullNode.getInstance(), "/skipped_images", IntNode.valueOf(0));

    private static final String GOOD = "{\"x\": 1, \"id\": 2, \"weight\": 0.5, \"name\": \"a\", \"on\": true,"
            + " \"time\": \"2025-01-31T12:00:00Z\", \"values\": [1, 2.5], \"maybe\": null, \"skipped_images\": 4,"
            + " \"inner\": {\"size\": 3}, \"inners\": [{\"size\": 1}, {\"size\": 2}]}";

    private static final Doc EXPECTED = new Doc(1, 2, 0.5, "a", true, Instant.parse("2025-01-31T12:00:00Z"),
            List.of(1.0, 2.5), null, 4, new Inner(3), List.of(new Inner(1), new Inner(2)));

    @TempDir
    Path root;

    private Path file(String json) throws IOException {
        return Files.writeString(root.resolve("doc.json"), json);
    }

    private Doc read(String json) throws IOException {
        return Json.read(file(json), Doc.class, OPTIONAL);
    }

    /** The message, without the file name it starts with, of reading {@link #GOOD} with {@code from} replaced by {@code to}. */
    private String error(String from, String to) throws IOException {
        assertTrue(GOOD.contains(from), from);
        Path file = file(GOOD.replace(from, to));
        UserException e = assertThrows(UserException.class, () -> Json.read(file, Doc.class, OPTIONAL));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        return e.getMessage().substring((file + ": ").length());
    }

    @Test
    void recordsAreSnakeCaseObjectsInComponentOrder() throws IOException {
        assertEquals(EXPECTED, read(GOOD));
        assertEquals("{\"x\":1,\"id\":2,\"weight\":0.5,\"name\":\"a\",\"on\":true,\"time\":\"2025-01-31T12:00:00Z\","
                + "\"values\":[1.0,2.5],\"maybe\":null,\"skipped_images\":4,\"inner\":{\"size\":3},"
                + "\"inners\":[{\"size\":1},{\"size\":2}]}", Json.MAPPER.writeValueAsString(EXPECTED));
        Instant nanos = Instant.parse("2025-01-31T12:00:00.123456789Z");
        assertEquals("\"2025-01-31T12:00:00.123456789Z\"", Json.MAPPER.writeValueAsString(nanos));
    }

    @Test
    void optionalFieldsMayBeAbsentOrNull() throws IOException {
        Doc absent = read(GOOD.replace("\"maybe\": null, \"skipped_images\": 4,", ""));
        assertEquals(null, absent.maybe());
        assertEquals(0, absent.skippedImages());
        assertEquals(0, read(GOOD.replace("\"skipped_images\": 4", "\"skipped_images\": null")).skippedImages());
        assertEquals(7, read(GOOD.replace("\"maybe\": null", "\"maybe\": 7")).maybe());
    }

    @Test
    void unknownDuplicateAndMissingFieldsAreNamedByTheirPath() throws IOException {
        assertEquals("unknown field 'inner.colour' (expected size)", error("{\"size\": 3}", "{\"size\": 3, \"colour\": 1}"));
        assertTrue(error("{\"size\": 2}", "{\"size\": 2, \"size\": 3}").startsWith(
                "the file is not valid JSON (duplicate field 'inners[1].size' at line 1, column "), GOOD);
        assertEquals("missing field 'name'", error("\"name\": \"a\", ", ""));
        assertEquals("missing field 'inners[0].size'", error("{\"size\": 1}", "{}"));
    }

    @Test
    void noCoercionBetweenJsonTypes() throws IOException {
        assertEquals("field 'x' must be an integer, found \"1\"", error("\"x\": 1", "\"x\": \"1\""));
        assertEquals("field 'x' must be an integer, found 1.0", error("\"x\": 1", "\"x\": 1.0"));
        assertEquals("field 'x' must be an integer from -2147483648 to 2147483647, found 3000000000",
                error("\"x\": 1", "\"x\": 3000000000"));
        assertEquals("field 'id' must be an integer from -9223372036854775808 to 9223372036854775807, found "
                + "100000000000000000000", error("\"id\": 2", "\"id\": 100000000000000000000"));
        assertEquals("field 'weight' must be a number, found \"0.5\"", error("\"weight\": 0.5", "\"weight\": \"0.5\""));
        assertEquals("field 'name' must be a string, found 5", error("\"name\": \"a\"", "\"name\": 5"));
        assertEquals("field 'name' must be a string, found false", error("\"name\": \"a\"", "\"name\": false"));
        assertEquals("field 'on' must be true or false, found 1", error("\"on\": true", "\"on\": 1"));
        assertEquals("field 'on' must be true or false, found \"true\"", error("\"on\": true", "\"on\": \"true\""));
        assertEquals("field 'values' must be a JSON array, found 1", error("[1, 2.5]", "1"));
        assertEquals("field 'values[1]' must be a number, found \"2.5\"", error("[1, 2.5]", "[1, \"2.5\"]"));
        assertEquals("field 'inner' must be a JSON object, found [3]", error("{\"size\": 3}", "[3]"));
        assertEquals("field 'time' must be an ISO-8601 instant such as 2025-01-31T12:00:00Z, found 1738324800",
                error("\"2025-01-31T12:00:00Z\"", "1738324800"));
        assertEquals("field 'time' must be an ISO-8601 instant such as 2025-01-31T12:00:00Z, found \"yesterday\"",
                error("\"2025-01-31T12:00:00Z\"", "\"yesterday\""));
    }

    @Test
    void nullIsRefusedUnlessTheComponentAllowsIt() throws IOException {
        assertEquals("field 'name' must be a string, found null", error("\"name\": \"a\"", "\"name\": null"));
        assertEquals("field 'x' must be an integer, found null", error("\"x\": 1", "\"x\": null"));
        assertEquals("field 'values[0]' must be a number, found null", error("[1, 2.5]", "[null]"));
        assertEquals("field 'inner' must be a JSON object, found null", error("{\"size\": 3}", "null"));
    }

    @Test
    void valuesTheRecordsRefuseAreNamedByTheirPath() throws IOException {
        assertEquals("field 'inners[1].size' must not be negative, found -1", error("{\"size\": 2}", "{\"size\": -1}"));
        assertEquals("inner: 13 is unlucky", error("{\"size\": 3}", "{\"size\": 13}"));
        Path array = file("[1]");
        assertEquals(array + ": the file must be a JSON object, found [1]",
                assertThrows(UserException.class, () -> Json.read(array, Doc.class, OPTIONAL)).getMessage());
    }

    @Test
    void refusesAFileTooLargeToBeOursUnread() throws IOException {
        Path huge = root.resolve("huge.json");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(Json.MAX_FILE_BYTES + 1);
        }
        UserException e = assertThrows(UserException.class, () -> Json.read(huge, Doc.class, OPTIONAL));
        assertEquals(huge + ": too large for a CoOpt JSON file (67108865 bytes; at most 67108864)", e.getMessage());
    }
}
