package ai.coopt.store;

import ai.coopt.UserException;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A JSON object inside an optimized dataset's manifest, with its path from the root ({@code participants[1]}),
 * so that a missing or ill-typed field is a one-line user error naming the file and the field. It checks JSON
 * types only; the manifest records check the values, and {@link #build} reports their complaints.
 */
final class ManifestNode {
    private final Path file;
    private final String path;
    private final JsonNode node;

    private ManifestNode(Path file, String path, JsonNode node) {
        this.file = file;
        this.path = path;
        this.node = node;
    }

    /** The document's root, which must be a JSON object. */
    static ManifestNode root(Path file, JsonNode root) {
        ManifestNode node = new ManifestNode(file, "", root);
        if (!root.isObject()) {
            throw node.error("not a JSON object");
        }
        return node;
    }

    /** The raw value of a field, or null when it is absent. */
    JsonNode raw(String name) {
        return node.get(name);
    }

    /** A required object field. */
    ManifestNode object(String name) {
        JsonNode value = require(name);
        if (!value.isObject()) {
            throw fieldError(name, "must be a JSON object");
        }
        return new ManifestNode(file, pathOf(name), value);
    }

    /** An object field that may be absent or null; null then. */
    ManifestNode optionalObject(String name) {
        JsonNode value = node.get(name);
        return value == null || value.isNull() ? null : object(name);
    }

    /** A required array of objects. */
    List<ManifestNode> objects(String name) {
        return array(name, (element, at) -> {
            if (!element.isObject()) {
                throw new UserException(file + ": field '" + at + "' must be a JSON object");
            }
            return new ManifestNode(file, at, element);
        });
    }

    String text(String name) {
        JsonNode value = require(name);
        if (!value.isTextual()) {
            throw fieldError(name, "must be a string, found " + value);
        }
        return value.textValue();
    }

    List<String> texts(String name) {
        return array(name, (element, at) -> {
            if (!element.isTextual()) {
                throw new UserException(file + ": field '" + at + "' must be a string, found " + element);
            }
            return element.textValue();
        });
    }

    int integer(String name) {
        JsonNode value = require(name);
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw fieldError(name, "must be an integer, found " + value);
        }
        return value.intValue();
    }

    /** An integer field that may be absent or null; null then. */
    Integer optionalInteger(String name) {
        JsonNode value = node.get(name);
        return value == null || value.isNull() ? null : integer(name);
    }

    long integer64(String name) {
        JsonNode value = require(name);
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw fieldError(name, "must be an integer, found " + value);
        }
        return value.longValue();
    }

    List<Long> integers64(String name) {
        return array(name, (element, at) -> {
            if (!element.isIntegralNumber() || !element.canConvertToLong()) {
                throw new UserException(file + ": field '" + at + "' must be an integer, found " + element);
            }
            return element.longValue();
        });
    }

    /** A number, or {@code null} when the field is absent or JSON null. */
    Double optionalNumber(String name) {
        JsonNode value = node.get(name);
        return value == null || value.isNull() ? null : number(name);
    }

    double number(String name) {
        JsonNode value = require(name);
        if (!value.isNumber()) {
            throw fieldError(name, "must be a number, found " + value);
        }
        return value.doubleValue();
    }

    List<Double> numbers(String name) {
        return array(name, (element, at) -> {
            if (!element.isNumber()) {
                throw new UserException(file + ": field '" + at + "' must be a number, found " + element);
            }
            return element.doubleValue();
        });
    }

    boolean bool(String name) {
        JsonNode value = require(name);
        if (!value.isBoolean()) {
            throw fieldError(name, "must be true or false, found " + value);
        }
        return value.booleanValue();
    }

    /**
     * Runs a record constructor on this node's fields; its {@link IllegalArgumentException} (a value out of
     * range) becomes a user error naming the file and this node.
     */
    <T> T build(Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage());
        }
    }

    /** A one-line user error about this node. */
    UserException error(String message) {
        return new UserException(file + ": " + (path.isEmpty() ? "" : path + ": ") + message);
    }

    /** Converts one array element found at path {@code at}. */
    private interface Element<T> {
        T convert(JsonNode element, String at);
    }

    private <T> List<T> array(String name, Element<T> element) {
        JsonNode value = require(name);
        if (!value.isArray()) {
            throw fieldError(name, "must be a JSON array");
        }
        List<T> values = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            values.add(element.convert(value.get(i), pathOf(name) + "[" + i + "]"));
        }
        return values;
    }

    private JsonNode require(String name) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            throw new UserException(file + ": missing field '" + pathOf(name) + "'");
        }
        return value;
    }

    private UserException fieldError(String name, String message) {
        return new UserException(file + ": field '" + pathOf(name) + "' " + message);
    }

    private String pathOf(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }
}
