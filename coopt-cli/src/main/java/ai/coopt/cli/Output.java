package ai.coopt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintStream;

/** Writes a command's result: one JSON object on stdout with {@code --json}, readable lines otherwise. */
final class Output {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Output() {}

    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    /**
     * Puts {@code node} (how {@code --limit} drew the samples, as a manifest or model directory records it; missing or
     * null for the whole split) under {@code "subset"}.
     */
    static void subset(ObjectNode o, com.fasterxml.jackson.databind.JsonNode node) {
        o.set("subset", node == null || node.isMissingNode() ? com.fasterxml.jackson.databind.node.NullNode.getInstance()
                : node);
    }

    /** {@link #subset} as the manifest.json in {@code dir} records it ({@code source.subset}). */
    static void subsetOf(ObjectNode o, java.nio.file.Path dir) {
        try {
            subset(o, JSON.readTree(dir.resolve("manifest.json").toFile()).path("source").path("subset"));
        } catch (java.io.IOException e) {
            throw new ai.coopt.UserException(dir.resolve("manifest.json") + ": cannot read: " + e.getMessage());
        }
    }

    /** Prints {@code result} as JSON when {@code json}, otherwise prints {@code human}. */
    static void print(boolean json, ObjectNode result, String human) {
        PrintStream out = System.out;
        if (json) {
            try {
                out.println(JSON.writeValueAsString(result));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        } else {
            out.println(human);
        }
        out.flush();
    }

    /** A status line on stderr (never on stdout, which may carry JSON). */
    static void note(String line) {
        System.err.println(line);
    }
}
