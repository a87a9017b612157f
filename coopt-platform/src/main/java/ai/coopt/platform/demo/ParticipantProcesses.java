package ai.coopt.platform.demo;

import java.io.IOException;
import java.nio.file.Path;

/** How the demo starts a {@code coopt} child process (a participant enrolling or running): the front end knows how. */
@FunctionalInterface
public interface ParticipantProcesses {
    /** Starts {@code coopt ARGS}; its stdout and stderr go to {@code log}.out and {@code log}.err. */
    Process start(Path log, String... args) throws IOException;
}
