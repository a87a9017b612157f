package ai.coopt.cli;

import ai.coopt.nn.Architectures;

import java.util.Iterator;

/** The architecture names, for picocli's help and completion. */
final class ArchNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
        return Architectures.names().iterator();
    }
}
