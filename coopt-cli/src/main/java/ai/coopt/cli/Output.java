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

    /** Puts how {@code --limit} drew the samples under {@code "subset"}, as the manifests record it (null: all of them). */
    static void subset(ObjectNode o, ai.coopt.data.Subset subset) {
        o.set("subset", ai.coopt.store.Json.mapper().valueToTree(subset));
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
