package ai.coopt.cli;

import ai.coopt.store.ManifestProvenance;

import java.time.Instant;

/** What every artifact records about how it was made: time, tool version, command line, seed. */
final class Provenance {
    private Provenance() {}

    static ManifestProvenance.Created created(long seed) {
        return new ManifestProvenance.Created(Instant.now(), Version.get(), Main.commandLine(), seed);
    }
}
