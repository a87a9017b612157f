package ai.coopt.engine;

import ai.coopt.UserException;
import ai.djl.Device;
import ai.djl.engine.Engine;

import static ai.coopt.Setting.DEVICE;

/**
 * The one place where the tensor engine is configured: PyTorch through DJL, offline unless the
 * {@code ai.djl.offline} property says otherwise (the CPU native library comes from the jar on the
 * class path, nothing is downloaded), with a fixed number of intra-op threads. Call {@link #configure(int)} before the first use of DJL.
 */
public final class Engines {
    private static volatile boolean configured;

    private Engines() {}

    /** Sets DJL's system properties; {@code threads} ≤ 0 means one per available core. */
    public static synchronized void configure(int threads) {
        if (configured) {
            return;
        }
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        System.setProperty("ai.djl.default_engine", "PyTorch");
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(n));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        configured = true;
    }

    /** The engine's intra-op threads (what {@link #configure(int)} set, or one per core). */
    public static int threads() {
        configure(0);
        return Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors());
    }

    /**
     * The engine, configured with defaults if {@link #configure(int)} was not called; the first call also decides
     * whether convolutions may use oneDNN on this CPU ({@link OneDnn}).
     */
    public static Engine get() {
        configure(0);
        Engine engine = Engine.getInstance();
        OneDnn.apply();
        return engine;
    }

    /** Resolves {@code cpu}, {@code gpu} or {@code auto} (a GPU when the engine sees one). */
    public static Device device(String name) {
        Engine engine = get();
        return switch (name) {
            case "cpu" -> Device.cpu();
            case "gpu" -> {
                if (engine.getGpuCount() == 0) {
                    throw new UserException(names -> names.of(DEVICE)
                            + " gpu: no GPU is visible to PyTorch (build with -Pcuda on a machine with CUDA)");
                }
                yield Device.gpu();
            }
            case "auto" -> engine.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
            default -> throw new UserException(names -> names.of(DEVICE) + " must be cpu, gpu or auto, not '" + name
                    + "'");
        };
    }

    /** Seeds the engine's random generator (weight initialisation, dropout). */
    public static void seed(long seed) {
        get().setRandomSeed((int) seed);
    }
}
