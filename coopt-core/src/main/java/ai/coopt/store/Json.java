package ai.coopt.store;

import ai.coopt.UserException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The package's strict JSON reading: duplicate keys and trailing content are errors. */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {}

    /** The largest JSON file read: descriptions and manifests are far smaller; anything larger is refused unread. */
    static final long MAX_FILE_BYTES = 64L << 20;

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

    private static String describe(JsonProcessingException e) {
        String message = IoErrors.oneLine(e.getOriginalMessage());
        JsonLocation at = e.getLocation();
        return at == null ? message : message + " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }
}
