package ai.coopt.platform.server;

import ai.coopt.store.Json;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.ClassUtil;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The OpenAPI 3.0 schemas of wire records, as the project's mapper ({@link Json#mapper()}) writes them: the properties
 * Jackson finds, in its order and under its names (snake_case); {@code int}/{@code long} an integer of that format,
 * {@code double} a number, {@code boolean}, {@code String}, an array or {@code List} an array, a {@code Map} with
 * string keys an object of {@code additionalProperties}, a record a reference to its own schema. Every property is
 * required (the mapper writes nulls) unless it says {@code @JsonInclude(NON_NULL)}; a boxed one, or one that says
 * {@code @JsonSetter(nulls = Nulls.SET)} (as the strict reader needs), may be null. A property's
 * {@code @JsonPropertyDescription} is its description.
 */
final class JsonSchemas {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final ObjectMapper mapper = Json.mapper();
    private final Map<String, ObjectNode> schemas = new LinkedHashMap<>();
    private final Map<String, Class<?>> named = new HashMap<>();

    /**
     * The schema's name of a record: its simple name; a record nested in another (the parts of {@code Status}) less
     * a {@code View} suffix.
     */
    static String name(Class<?> record) {
        String simple = record.getSimpleName();
        return record.getEnclosingClass() != null && simple.endsWith("View")
                ? simple.substring(0, simple.length() - "View".length()) : simple;
    }

    /** A reference to {@code record}'s schema, which (with the records it holds) joins {@link #components}. */
    ObjectNode ref(Class<?> record) {
        String name = name(record);
        Class<?> before = named.putIfAbsent(name, record);
        if (before == null) {
            schemas.put(name, NODES.objectNode()); // holds the place: a record may refer to itself
            schemas.put(name, object(record));
        } else if (before != record) {
            throw new IllegalStateException(record + " and " + before + " would share the schema " + name);
        }
        return NODES.objectNode().put("$ref", "#/components/schemas/" + name);
    }

    /** Every schema {@link #ref} reached, by name, in the order first reached. */
    Map<String, ObjectNode> components() {
        return schemas;
    }

    private ObjectNode object(Class<?> record) {
        if (!record.isRecord()) {
            throw new IllegalArgumentException(record + " is not a record");
        }
        SerializationConfig config = mapper.getSerializationConfig();
        BeanDescription bean = config.introspect(mapper.constructType(record));
        ObjectNode schema = NODES.objectNode().put("type", "object");
        ObjectNode properties = NODES.objectNode();
        var required = NODES.arrayNode();
        for (BeanPropertyDefinition p : bean.findProperties()) {
            if (!p.couldSerialize()) {
                continue;
            }
            Class<?> raw = p.getPrimaryType().getRawClass();
            JsonSetter setter = p.getPrimaryMember().getAnnotation(JsonSetter.class);
            boolean boxed = !raw.isPrimitive() && ClassUtil.primitiveType(raw) != null;
            boolean nullable = boxed || setter != null && setter.nulls() == Nulls.SET;
            properties.set(p.getName(), property(type(p.getPrimaryType()), nullable, p.getMetadata().getDescription()));
            JsonInclude.Include inclusion = p.findInclusion().getValueInclusion();
            if (inclusion == JsonInclude.Include.ALWAYS || inclusion == JsonInclude.Include.USE_DEFAULTS) {
                required.add(p.getName());
            }
        }
        if (!required.isEmpty()) {
            schema.set("required", required);
        }
        schema.set("properties", properties);
        return schema;
    }

    /** {@code schema} with the property's nullability and description (a reference wrapped in allOf to hold them). */
    private static ObjectNode property(ObjectNode schema, boolean nullable, String description) {
        if (!nullable && description == null) {
            return schema;
        }
        ObjectNode p = schema;
        if (schema.has("$ref")) { // OpenAPI 3.0 ignores a reference's siblings, and nullable needs a type
            p = NODES.objectNode().put("type", "object");
            p.putArray("allOf").add(schema);
        }
        if (nullable) {
            p.put("nullable", true);
        }
        if (description != null) {
            p.put("description", description);
        }
        return p;
    }

    private ObjectNode type(JavaType t) {
        Class<?> c = t.getRawClass();
        if (c == int.class || c == Integer.class || c == short.class || c == Short.class) {
            return NODES.objectNode().put("type", "integer").put("format", "int32");
        } else if (c == long.class || c == Long.class) {
            return NODES.objectNode().put("type", "integer").put("format", "int64");
        } else if (c == double.class || c == Double.class || c == float.class || c == Float.class) {
            return NODES.objectNode().put("type", "number").put("format", c == float.class || c == Float.class
                    ? "float" : "double");
        } else if (c == boolean.class || c == Boolean.class) {
            return NODES.objectNode().put("type", "boolean");
        } else if (c == String.class) {
            return NODES.objectNode().put("type", "string");
        } else if (t.isArrayType() || t.isCollectionLikeType()) {
            ObjectNode array = NODES.objectNode().put("type", "array");
            array.set("items", type(t.getContentType()));
            return array;
        } else if (t.isMapLikeType() && t.getKeyType().hasRawClass(String.class)) {
            ObjectNode map = NODES.objectNode().put("type", "object");
            map.set("additionalProperties", type(t.getContentType()));
            return map;
        } else if (t.isRecordType()) {
            return ref(c);
        }
        throw new IllegalArgumentException("no JSON schema for " + t + " (a wire record holds numbers, booleans, "
                + "strings, lists, maps with string keys and records)");
    }
}
