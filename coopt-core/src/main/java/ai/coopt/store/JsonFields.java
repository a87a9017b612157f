package ai.coopt.store;

import ai.coopt.UserException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;

/**
 * Typed access to the fields of a JSON document read from a file, by dotted path ({@code "input.channels"});
 * a missing or ill-typed field is a one-line user error naming the file and the field.
 */
final class JsonFields {
    private final Path file;
    private final JsonNode root;

    JsonFields(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    /** The field's node, or null when it or one of its parents is absent. */
    JsonNode find(String path) {
        JsonNode node = root;
        for (String name : path.split("\\.")) {
            node = node.get(name);
            if (node == null) {
                return null;
            }
        }
        return node;
    }

    String text(String path) {
        JsonNode node = require(path);
        if (!node.isTextual() || node.textValue().isBlank()) {
            throw error("field '" + path + "' must be a non-empty string");
        }
        return node.textValue();
    }

    int positiveInt(String path) {
        JsonNode node = require(path);
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() <= 0) {
            throw error("field '" + path + "' must be a positive integer, found " + node);
        }
        return node.intValue();
    }

    ObjectNode object(String path) {
        JsonNode node = require(path);
        if (!node.isObject()) {
            throw error("field '" + path + "' must be a JSON object");
        }
        return (ObjectNode) node;
    }

    /** An array of exactly {@code length} finite numbers. */
    float[] floats(String path, int length) {
        JsonNode node = require(path);
        if (!node.isArray() || node.size() != length) {
            throw error("field '" + path + "' must be an array of " + length + " numbers");
        }
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            JsonNode v = node.get(i);
            if (!v.isNumber() || !Float.isFinite(v.floatValue())) {
                throw error("field '" + path + "' must hold finite numbers, found " + v);
            }
            values[i] = v.floatValue();
        }
        return values;
    }

    UserException error(String message) {
        return new UserException(file + ": " + message);
    }

    private JsonNode require(String path) {
        JsonNode node = find(path);
        if (node == null || node.isNull()) {
            throw error("missing field '" + path + "'");
        }
        return node;
    }
}
