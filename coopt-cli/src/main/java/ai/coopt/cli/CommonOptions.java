package ai.coopt.cli;

import ai.coopt.engine.Engines;
import ai.djl.Device;
import picocli.CommandLine.Option;

/** Options every command takes: output format, engine threads and device. */
final class CommonOptions {
    @Option(names = "--json", description = "Print exactly one JSON object with the results on stdout; logs and progress go to stderr.")
    boolean json;

    @Option(names = "--threads", defaultValue = "0", description = "Engine (intra-op) threads; 0 = one per core (default).")
    int threads;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, gpu or auto (default: ${DEFAULT-VALUE}). The GPU path needs the -Pcuda build and is not exercised by CI.")
    String device;

    /** Configures the engine and returns the chosen device. */
    Device engine() {
        Check.threads("--threads", threads, 0);
        Engines.configure(threads);
        return Engines.device(device);
    }
}
