package ai.coopt.engine;

import ai.coopt.UserException;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How much memory the engine's tensors of one batch may take: half of what this process can have (the
 * machine's or container's memory, or the address-space limit when lower), so that an input too large for the
 * machine is refused with a line instead of the process being killed. {@code COOPT_MEMORY_BUDGET} (or the
 * system property {@code coopt.memory.budget}) sets it explicitly: bytes, or a number with k, m, g or t.
 */
public final class MemoryBudget {
    /** The environment variable that sets the budget. */
    public static final String ENV = "COOPT_MEMORY_BUDGET";
    private static final String PROPERTY = "coopt.memory.budget";

    private MemoryBudget() {}

    /** The budget in bytes. */
    public static long bytes() {
        String set = System.getProperty(PROPERTY);
        if (set == null || set.isBlank()) {
            set = System.getenv(ENV);
        }
        if (set != null && !set.isBlank()) {
            return parse(set.strip());
        }
        long total = physical();
        long limit = addressSpaceLimit();
        return Math.min(total, limit) / 2;
    }

    /**
     * The largest batch of at most {@code wanted} items of {@code bytesPerItem} each that fits the budget, and at
     * least 1 (callers refuse an item larger than the budget beforehand); {@code wanted} when the size is unknown (0).
     */
    public static int batchThatFits(int wanted, long bytesPerItem) {
        if (bytesPerItem <= 0) {
            return wanted;
        }
        return (int) Math.max(1, Math.min(wanted, bytes() / bytesPerItem));
    }

    /**
     * Refuses, with one line, work that needs more than the budget: "{@code what} needs about X, more than the memory
     * budget of Y (where Y comes from); {@code remedy}".
     */
    public static void require(long bytes, String what, String remedy) {
        require(bytes, names -> what, names -> remedy);
    }

    /** {@link #require(long, String, String)}, where {@code what} or {@code remedy} names a setting. */
    public static void require(long bytes, UserException.Text what, UserException.Text remedy) {
        long budget = bytes();
        if (bytes > budget) {
            throw new UserException(names -> what.in(names) + " needs about " + describe(bytes)
                    + ", more than the memory budget of " + describe(budget) + " (" + source() + "); "
                    + remedy.in(names));
        }
    }

    /** Where the budget comes from, for messages. */
    public static String source() {
        String set = System.getProperty(PROPERTY);
        if ((set == null || set.isBlank()) && (System.getenv(ENV) == null || System.getenv(ENV).isBlank())) {
            return (addressSpaceLimit() < physical() ? "half of the address-space limit, ulimit -v" : "half of this machine's memory")
                    + "; set " + ENV + " to change it";
        }
        return "set by " + ENV;
    }

    /** A byte count people read: {@code 1.5 GiB}, {@code 12 MiB}. */
    public static String describe(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%.0f MiB", Math.max(1, bytes / (double) (1L << 20)));
    }

    static long parse(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        long unit = 1;
        char last = t.charAt(t.length() - 1);
        int shift = switch (last) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        if (shift > 0) {
            t = t.substring(0, t.length() - 1);
            unit = 1L << shift;
        }
        try {
            double value = Double.parseDouble(t);
            if (!(value > 0) || value * unit > Long.MAX_VALUE / 2) {
                throw new NumberFormatException();
            }
            return (long) (value * unit);
        } catch (NumberFormatException e) {
            throw new UserException(ENV + " must be a positive size such as 8g or 512m, not '" + text + "'");
        }
    }

    private static long physical() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            long total = sun.getTotalMemorySize();
            if (total > 0) {
                return total;
            }
        }
        return Runtime.getRuntime().maxMemory();
    }

    /** The soft limit on the address space ({@code ulimit -v}), or Long.MAX_VALUE when there is none or it is unknown. */
    private static long addressSpaceLimit() {
        Path limits = Path.of("/proc/self/limits");
        if (!Files.isReadable(limits)) {
            return Long.MAX_VALUE;
        }
        try {
            for (String line : Files.readAllLines(limits)) {
                if (line.startsWith("Max address space")) {
                    String[] parts = line.substring("Max address space".length()).trim().split("\\s+");
                    return parts[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(parts[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return Long.MAX_VALUE;
        }
        return Long.MAX_VALUE;
    }
}
