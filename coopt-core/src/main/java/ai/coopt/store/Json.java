package ai.coopt.store;

import ai.coopt.UserException;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.databind.type.LogicalType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The project's JSON files, read and written by one strictly configured mapper: records map to JSON objects
 * with snake_case field names in component order; reading refuses duplicate keys, trailing content, unknown
 * and missing fields, nulls (except where a component says {@code @JsonSetter(nulls = Nulls.SET)}), and any
 * coercion between JSON types (a number for a string, {@code 1.0} for an integer, {@code "true"} for a
 * boolean). Every problem is a one-line {@link UserException} naming the file and the field.
 */
public final class Json {
    /** The one mapper. Trees ({@code JsonNode}) are written and read as they are. */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .defaultSetterInfo(JsonSetter.Value.construct(Nulls.FAIL, Nulls.FAIL))
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .withCoercionConfig(LogicalType.Textual, c -> c
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .addModule(new SimpleModule("iso-instants")
                    .addSerializer(Instant.class, ToStringSerializer.instance)
                    .addDeserializer(Instant.class, new InstantText()))
            .build();

    /** The largest JSON file read: descriptions and manifests are far smaller; anything larger is refused unread. */
    /** The one strict mapper, for the platform's requests and responses too; never reconfigure it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    static final long MAX_FILE_BYTES = 64L << 20;

    private static final String INSTANT = "an ISO-8601 instant such as 2025-01-31T12:00:00Z";

    private Json() {}

    /**
     * A value out of range in a record being read, thrown by its constructor: {@code field} is the JSON name
     * relative to the record, so that the error names the whole path from the file's root, e.g.
     * {@code field 'participants[0].weights_sha256' must be 64 lower-case hex digits}.
     */
    public static final class BadField extends IllegalArgumentException {
        private final String field;
        private final String problem;

        /** @param problem what is wrong, e.g. {@code must be positive, found 0} */
        public BadField(String field, String problem) {
            super(field + " " + problem);
            this.field = field;
            this.problem = problem;
        }
    }

    /** Parses {@code bytes}, the {@code what} part of {@code file}; bad JSON is a one-line user error. */
    static JsonNode parse(Path file, String what, byte[] bytes) {
        try {
            JsonNode node = MAPPER.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw new UserException(file + ": " + what + (bytes.length == 0 ? " is empty"
                        : " holds no JSON value (" + bytes.length + " bytes of white space)"));
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new UserException(file + ": " + what + " is not valid JSON (" + describe(e) + ")", e);
        } catch (IOException e) {
            throw new UserException(file + ": cannot parse " + what + ": " + IoErrors.reason(e), e);
        }
    }

    /** Reads and parses a whole JSON file. */
    static JsonNode read(Path file) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new UserException(file + ": too large for a CoOpt JSON file (" + size + " bytes; at most "
                        + MAX_FILE_BYTES + ")");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
        return parse(file, "the file", bytes);
    }

    /**
     * Reads a whole JSON file as a {@code type}.
     *
     * @param optional see {@link #convert}
     */
    public static <T> T read(Path file, Class<T> type, Map<String, JsonNode> optional) {
        return convert(file, read(file), type, optional);
    }

    /**
     * Reads the marker file of a directory of {@code kind} ({@code what} is "manifest" or "description"): a
     * JSON object whose {@code format} field is the kind's format.
     */
    static ObjectNode readFormatted(Path file, DirectoryKind kind, String what) {
        if (!(read(file) instanceof ObjectNode root)) {
            throw new UserException(file + ": not a JSON object");
        }
        JsonNode format = root.get("format");
        if (format == null) {
            throw new UserException(file + ": not a " + kind.description() + " " + what + " (no \"format\" field)");
        }
        if (!kind.format().equals(format.asText())) {
            throw new UserException(file + ": unsupported format " + format + " (this version reads \"" + kind.format()
                    + "\")");
        }
        return root;
    }

    /**
     * Maps {@code tree}, read from {@code file}, to a {@code type}.
     *
     * @param optional the fields that may be absent or null, as JSON pointers (e.g. {@code /source/skipped_images};
     *     a star for every element of a list: /participants/&#42;/precision), with the value that stands for
     *     them; a component that takes a null default must say {@code @JsonSetter(nulls = Nulls.SET)}
     * @throws UserException one line naming the file and the field, for anything the records refuse
     */
    static <T> T convert(Path file, JsonNode tree, Class<T> type, Map<String, JsonNode> optional) {
        JsonNode filled = withDefaults(tree, optional);
        try {
            return MAPPER.treeToValue(filled, type);
        } catch (JsonProcessingException e) {
            throw new UserException(file + ": " + problem(filled, e), e);
        }
    }

    /**
     * Maps {@code tree} (from the network, not a file) to a {@code type}, the {@code optional} fields filled as
     * {@link #convert} fills them.
     *
     * @throws JsonProcessingException for anything the records refuse
     */
    public static <T> T convert(JsonNode tree, Class<T> type, Map<String, JsonNode> optional)
            throws JsonProcessingException {
        return MAPPER.treeToValue(withDefaults(tree, optional), type);
    }

    /** {@code tree}, or a copy of it with each optional field that is absent or null set to its stand-in. */
    private static JsonNode withDefaults(JsonNode tree, Map<String, JsonNode> optional) {
        JsonNode filled = tree;
        for (Map.Entry<String, JsonNode> e : optional.entrySet()) {
            for (String concrete : expand(tree, e.getKey())) {
                JsonPointer pointer = JsonPointer.compile(concrete);
                String name = pointer.last().getMatchingProperty();
                if (filled.at(pointer.head()) instanceof ObjectNode parent
                        && (parent.get(name) == null || parent.get(name).isNull())) {
                    if (filled == tree) {
                        filled = tree.deepCopy();
                    }
                    ((ObjectNode) filled.at(pointer.head())).set(name, e.getValue());
                }
            }
        }
        return filled;
    }

    /** The pointers {@code pointer} stands for in {@code tree}: each star step replaced by every index of its list. */
    private static List<String> expand(JsonNode tree, String pointer) {
        int star = pointer.indexOf("/*/");
        if (star < 0) {
            return List.of(pointer);
        }
        String list = pointer.substring(0, star);
        JsonNode array = tree.at(list);
        List<String> out = new ArrayList<>();
        for (int i = 0; array.isArray() && i < array.size(); i++) {
            out.addAll(expand(tree, list + "/" + i + pointer.substring(star + 2)));
        }
        return out;
    }

    /** What is wrong, naming the field by its path from the root. */
    private static String problem(JsonNode tree, JsonProcessingException e) {
        if (!(e instanceof JsonMappingException m)) {
            return IoErrors.oneLine(e.getOriginalMessage());
        }
        List<Object> steps = new ArrayList<>();
        for (JsonMappingException.Reference r : m.getPath()) {
            if (r.getFieldName() != null) {
                steps.add(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                steps.add(r.getIndex());
            }
        }
        String path = dotted(steps);
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown field '" + path + "' (expected " + u.getKnownPropertyIds().stream().map(String::valueOf)
                    .sorted().collect(Collectors.joining(", ")) + ")";
        }
        if (e instanceof ValueInstantiationException && e.getCause() instanceof BadField f) {
            return "field '" + dotted(List.of(path, f.field)) + "' " + f.problem;
        }
        if (e instanceof ValueInstantiationException && e.getCause() instanceof IllegalArgumentException cause) {
            return (path.isEmpty() ? "" : path + ": ") + IoErrors.oneLine(cause.getMessage());
        }
        JsonNode found = tree;
        for (Object step : steps) {
            found = step instanceof Integer i ? found.get(i) : found.get((String) step);
            if (found == null) {
                return "missing field '" + path + "'";
            }
        }
        Class<?> target = e instanceof MismatchedInputException mismatch ? mismatch.getTargetType()
                : e.getCause() instanceof InputCoercionException coercion ? coercion.getTargetType() : null;
        String expected = expected(target, found);
        if (expected == null) {
            return (path.isEmpty() ? "" : "field '" + path + "': ") + IoErrors.oneLine(m.getOriginalMessage());
        }
        return (path.isEmpty() ? "the file" : "field '" + path + "'") + " must be " + expected + ", found "
                + shortText(found);
    }

    /** What a value of {@code type} looks like in JSON, or null when that is unknown. */
    private static String expected(Class<?> type, JsonNode found) {
        if (type == null) {
            return null;
        }
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            boolean big = type == long.class || type == Long.class;
            return found.isIntegralNumber() ? "an integer from " + (big ? Long.MIN_VALUE : Integer.MIN_VALUE) + " to "
                    + (big ? Long.MAX_VALUE : Integer.MAX_VALUE) : "an integer";
        }
        if (type == double.class || type == Double.class || type == float.class || type == Float.class) {
            return "a number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type == Instant.class) {
            return INSTANT;
        }
        if (type.isArray() || Collection.class.isAssignableFrom(type)) {
            return "a JSON array";
        }
        return "a JSON object";
    }

    /** A value as it appears in the file, shortened to fit in a message. */
    private static String shortText(JsonNode value) {
        String text = value.toString();
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }

    /** {@code participants[0].input.height} for the steps participants, 0, input, height; "" for none. */
    private static String dotted(List<?> steps) {
        StringBuilder path = new StringBuilder();
        for (Object step : steps) {
            if (step instanceof Integer index) {
                path.append('[').append(index).append(']');
            } else if (!step.toString().isEmpty()) {
                path.append(path.isEmpty() ? "" : ".").append(step);
            }
        }
        return path.toString();
    }

    static String describe(JsonProcessingException e) {
        String message = IoErrors.oneLine(e.getOriginalMessage());
        if (message.startsWith("Duplicate field") && e instanceof StreamReadException s && s.getProcessor() != null) {
            Deque<Object> steps = new ArrayDeque<>();
            for (JsonStreamContext c = s.getProcessor().getParsingContext(); c != null && !c.inRoot(); c = c.getParent()) {
                steps.push(c.inArray() ? (Object) c.getCurrentIndex() : c.getCurrentName());
            }
            message = "duplicate field '" + dotted(List.copyOf(steps)) + "'";
        }
        JsonLocation at = e.getLocation();
        return at == null ? message : message + " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    /** An {@link Instant} is its ISO-8601 text, {@link Instant#toString()} written and {@link Instant#parse} read. */
    private static final class InstantText extends StdScalarDeserializer<Instant> {
        InstantText() {
            super(Instant.class);
        }

        @Override
        public Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (!p.hasToken(JsonToken.VALUE_STRING)) {
                return (Instant) ctxt.handleUnexpectedToken(Instant.class, p);
            }
            try {
                return Instant.parse(p.getText());
            } catch (DateTimeParseException e) {
                return (Instant) ctxt.handleWeirdStringValue(Instant.class, p.getText(), "not " + INSTANT);
            }
        }
    }
}
