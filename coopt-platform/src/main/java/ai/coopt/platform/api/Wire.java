package ai.coopt.platform.api;

import ai.coopt.UserException;
import ai.coopt.store.Json;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The platform's answers as the client reads them: into these records, with the project's mapper (snake_case, no
 * coercion between JSON types) made tolerant of what a newer server may add (unknown fields) or leave out (a field
 * the record holds as null or 0), so that a client keeps working across a server upgrade.
 */
public final class Wire {
    private static final ObjectMapper READER = Json.mapper().copy()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .setDefaultSetterInfo(JsonSetter.Value.empty());

    private Wire() {}

    /**
     * {@code answer} as a {@code type}.
     *
     * @throws UserException naming the route when the answer does not fit the record
     */
    public static <T> T read(JsonNode answer, Class<T> type, String route) {
        try {
            return READER.treeToValue(answer, type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new UserException("the platform's answer to " + route + " does not fit " + type.getSimpleName() + ": "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
    }
}
