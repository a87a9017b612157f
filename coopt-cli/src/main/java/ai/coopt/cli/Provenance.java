package ai.coopt.cli;

import ai.coopt.store.ManifestProvenance;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;

/** What every artifact records about how it was made: time, tool version, command line, seed. */
final class Provenance {
    private Provenance() {}

    /** The same, as the JSON object a model directory's provenance starts from. */
    static ObjectNode createdNode(long seed) {
        return created(seed).node();
    }

    static ManifestProvenance.Created created(long seed) {
        return new ManifestProvenance.Created(Instant.now(), Version.get(), Main.commandLine(), seed);
    }
}
