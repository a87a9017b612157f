package ai.coopt.cli;

import ai.coopt.store.ManifestProvenance;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;

/** What every artifact records about how it was made: time, tool version, command line, seed. */
final class Provenance {
    private Provenance() {}

    /** The same, as the JSON object a model directory's provenance starts from. */
    static ObjectNode createdNode(long seed) {
        ObjectNode o = Output.JSON.createObjectNode();
        o.put("created", Instant.now().toString());
        o.put("tool_version", Version.get());
        ArrayNode line = o.putArray("command_line");
        Main.commandLine().forEach(line::add);
        o.put("seed", seed);
        return o;
    }

    static ManifestProvenance.Created created(long seed) {
        return new ManifestProvenance.Created(Instant.now(), Version.get(), Main.commandLine(), seed);
    }
}
