package ai.coopt.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The instruction-set flags the kernel reports for the first CPU ({@code /proc/cpuinfo}'s {@code flags} line), read
 * once. The property {@value #PROPERTY} (a comma- or space-separated list, empty for none) replaces them, so that a test
 * can stand for a CPU it does not run on.
 */
public final class CpuFlags {
    /** Overrides what the kernel reports. */
    public static final String PROPERTY = "coopt.cpu.flags";
    private static final Path CPUINFO = Path.of("/proc/cpuinfo");
    /** /proc/cpuinfo lists every core; the first core's lines come well within this. */
    private static final int MAX_READ = 1 << 16;
    private static volatile Set<String> detected;

    private CpuFlags() {}

    /** The flags in effect (the property's when set). */
    public static Set<String> get() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null) {
            return parse(forced);
        }
        Set<String> d = detected;
        if (d == null) {
            d = read(CPUINFO);
            detected = d;
        }
        return d;
    }

    /** Whether the CPU computes bfloat16 dot products natively (AVX-512 BF16, or Intel's AMX tiles). */
    public static boolean bf16() {
        Set<String> flags = get();
        return flags.contains("avx512_bf16") || flags.contains("amx_bf16");
    }

    /** The first {@code flags} line of a cpuinfo file, or none when it is missing or unreadable (not Linux). */
    static Set<String> read(Path cpuinfo) {
        if (!Files.isRegularFile(cpuinfo)) {
            return Set.of();
        }
        try (InputStream in = Files.newInputStream(cpuinfo)) {
            String text = new String(in.readNBytes(MAX_READ), StandardCharsets.US_ASCII);
            for (String line : text.split("\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).strip().equals("flags")) {
                    return parse(line.substring(colon + 1));
                }
            }
            return Set.of();
        } catch (IOException e) {
            return Set.of();
        }
    }

    static Set<String> parse(String flags) {
        return Arrays.stream(flags.toLowerCase(Locale.ROOT).split("[,\\s]+")).filter(s -> !s.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
    }
}
