package ai.coopt.engine;

import ai.coopt.UserException;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether PyTorch may hand convolutions to oneDNN (its {@code mkldnn} backend), decided once when the engine loads.
 *
 * <p>oneDNN sizes its convolution blocks from the CPU's cache sizes; on virtual machines whose CPU reports none, its
 * 1×1 convolution heuristic divides by zero and the whole JVM dies with SIGFPE (seen with resnet50 and resnet101).
 * Neither {@code ONEDNN_MAX_CPU_ISA} nor any other setting of the bundled library avoids that path, but PyTorch's
 * own switch ({@code torch.backends.mkldnn.enabled}, {@code at::Context::setUserEnabledMkldnn}) sends convolutions
 * to its native kernels instead. DJL does not expose it, so it is called here through JNA on the libtorch the
 * engine loaded.
 *
 * <p>{@code COOPT_ONEDNN} (or the system property {@code coopt.onednn}) chooses: {@code auto} (default) turns oneDNN
 * off only where the kernel reports no level-1 or level-2 data cache size ({@link CpuCaches}); {@code off} always
 * turns it off (the safe path, slower: BENCHMARKS.md, "oneDNN off"); {@code on} leaves it on whatever the CPU reports.
 */
public final class OneDnn {
    public static final String ENV = "COOPT_ONEDNN";
    public static final String PROPERTY = "coopt.onednn";

    /** The user's choice. */
    public enum Mode {
        AUTO, ON, OFF;

        static Mode parse(String text, String source) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "", "auto" -> AUTO;
                case "on", "1", "true" -> ON;
                case "off", "0", "false" -> OFF;
                default -> throw new UserException(source + " must be auto, on or off, not '" + text + "'");
            };
        }
    }

    /** What was decided and why, for logs and provenance. */
    public record Decision(boolean enabled, String reason) {}

    private static volatile Decision decision;

    private OneDnn() {}

    /** The mode set by the system property, else the environment, else {@code auto}. */
    public static Mode mode() {
        String property = System.getProperty(PROPERTY);
        if (property != null) {
            return Mode.parse(property, "-D" + PROPERTY);
        }
        String env = System.getenv(ENV);
        return env == null ? Mode.AUTO : Mode.parse(env, ENV);
    }

    /** The decision for a mode and what the CPU reports (empty: not Linux, nothing to go by). */
    static Decision decide(Mode mode, Optional<CpuCaches> caches) {
        return switch (mode) {
            case ON -> new Decision(true, ENV + "=on");
            case OFF -> new Decision(false, ENV + "=off");
            case AUTO -> caches.isEmpty() || caches.get().reportsL1AndL2()
                    ? new Decision(true, "the CPU reports its cache sizes")
                    : new Decision(false, "the CPU reports no level-1/level-2 cache size, on which oneDNN's"
                            + " convolutions divide (" + ENV + "=on to use it anyway)");
        };
    }

    /**
     * Applies the decision to the loaded engine, once per process; later calls return the first decision. Called by
     * {@link Engines#get()} right after PyTorch loads, before any convolution can run.
     *
     * @throws UserException when oneDNN must be turned off and the switch cannot be reached
     */
    static Decision apply() {
        Decision d = decision;
        if (d != null) {
            return d;
        }
        synchronized (OneDnn.class) {
            if (decision == null) {
                Decision wanted = decide(mode(), CpuCaches.read(CpuCaches.SYSFS));
                if (!wanted.enabled()) {
                    setEnabled(false);
                    if (mode() == Mode.AUTO) {
                        System.err.println("coopt: " + wanted.reason() + ": convolutions run without oneDNN (slower)");
                    }
                }
                decision = wanted;
            }
            return decision;
        }
    }

    /** Whether PyTorch currently sends convolutions to oneDNN. */
    public static boolean enabled() {
        Engines.get();
        Torch t = Torch.get();
        return (t.getter.invokeInt(new Object[] {t.context}) & 0xFF) != 0;
    }

    /**
     * Turns PyTorch's oneDNN backend on or off for the whole process (tests use it to run the safe path on any
     * machine, and restore it afterwards). Turning it on where {@link #apply()} turned it off is refused.
     */
    public static void setEnabled(boolean on) {
        Decision d = decision;
        if (on && d != null && !d.enabled()) {
            throw new UserException("oneDNN stays off in this process: " + d.reason());
        }
        Torch t = Torch.get();
        t.setter.invokeVoid(new Object[] {t.context, on});
        // without oneDNN PyTorch picks NNPACK for batches of 16 or more, 20-40x slower than its im2col + BLAS kernels
        // here (resnet50: 4 against 80+ img/s); NNPACK stays on exactly when oneDNN is on, as PyTorch ships them
        t.nnpackSetter.invokeVoid(new Object[] {t.context, on});
    }

    /** Whether PyTorch may use NNPACK for convolutions (off together with oneDNN). */
    static boolean nnpackEnabled() {
        Engines.get();
        Torch t = Torch.get();
        return (t.nnpackGetter.invokeInt(new Object[] {t.context}) & 0xFF) != 0;
    }

    /** libtorch's global context and its two accessors, found once. */
    private record Torch(Pointer context, Function getter, Function setter, Function nnpackGetter, Function nnpackSetter) {
        private static volatile Torch instance;

        static Torch get() {
            Torch t = instance;
            if (t != null) {
                return t;
            }
            synchronized (Torch.class) {
                if (instance == null) {
                    instance = find();
                }
                return instance;
            }
        }

        private static Torch find() {
            Path lib = loadedLibrary("libtorch_cpu.so").orElseThrow(() -> new UserException(
                    "cannot turn oneDNN off: libtorch_cpu.so is not loaded in this process (" + ENV + ")"));
            try {
                NativeLibrary torch = NativeLibrary.getInstance(lib.toString());
                Pointer context = torch.getFunction("_ZN2at13globalContextEv").invokePointer(new Object[0]);
                return new Torch(context, torch.getFunction("_ZNK2at7Context17userEnabledMkldnnEv"),
                        torch.getFunction("_ZN2at7Context20setUserEnabledMkldnnEb"),
                        torch.getFunction("_ZNK2at7Context17userEnabledNNPACKEv"),
                        torch.getFunction("_ZN2at7Context20setUserEnabledNNPACKEb"));
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                throw new UserException("cannot turn oneDNN off in " + lib + " (" + e.getMessage()
                        + "); this CPU reports no cache sizes, so convolutions would crash the JVM");
            }
        }
    }

    /** The path of a shared library this process has mapped, read from {@code /proc/self/maps}. */
    static Optional<Path> loadedLibrary(String fileName) {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return Optional.empty();
        }
        try (BufferedReader in = Files.newBufferedReader(maps, StandardCharsets.ISO_8859_1)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                int slash = line.indexOf('/');
                if (slash >= 0 && line.endsWith("/" + fileName)) {
                    return Optional.of(Path.of(line.substring(slash)));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
