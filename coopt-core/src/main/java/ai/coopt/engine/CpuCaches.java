package ai.coopt.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The CPU caches the kernel reports ({@code /sys/devices/system/cpu/cpu0/cache/index*}: level, type, size), the same
 * CPUID leaves oneDNN reads. Some hypervisors hide them; {@code lscpu} then prints no cache lines, and oneDNN's
 * convolution blocking divides by the missing size (SIGFPE, the JVM aborts).
 */
public record CpuCaches(List<Cache> caches) {
    /** Where Linux lists the first CPU's caches. */
    public static final Path SYSFS = Path.of("/sys/devices/system/cpu/cpu0/cache");
    /** A sysfs file is a short line; anything longer is not what this reader expects. */
    private static final int MAX_FILE = 256;

    /** One cache: its level (1, 2, 3), type ({@code Data}, {@code Instruction}, {@code Unified}) and size in bytes (0 when unknown). */
    public record Cache(int level, String type, long bytes) {
        boolean holdsData() {
            return !"Instruction".equalsIgnoreCase(type);
        }
    }

    public CpuCaches {
        caches = List.copyOf(caches);
    }

    /**
     * The caches listed under {@code dir}, or empty when the directory does not exist (not Linux). An entry whose
     * files are missing or unreadable counts as a cache of unknown size.
     */
    public static Optional<CpuCaches> read(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        List<Cache> caches = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "index*")) {
            for (Path entry : entries) {
                caches.add(new Cache(parseInt(line(entry.resolve("level"))), line(entry.resolve("type")),
                        parseSize(line(entry.resolve("size")))));
            }
        } catch (IOException | RuntimeException e) {
            // a directory we cannot list reports nothing we can rely on
            return Optional.of(new CpuCaches(List.of()));
        }
        caches.sort(Comparator.comparingInt(Cache::level).thenComparing(Cache::type));
        return Optional.of(new CpuCaches(caches));
    }

    /** True when a data (or unified) cache of a known, non-zero size is reported at level 1 and at level 2. */
    public boolean reportsL1AndL2() {
        return hasDataCache(1) && hasDataCache(2);
    }

    private boolean hasDataCache(int level) {
        return caches.stream().anyMatch(c -> c.level() == level && c.holdsData() && c.bytes() > 0);
    }

    /** A size as sysfs writes it: {@code 48K}, {@code 2048K}, {@code 32M}, or plain bytes; 0 when unreadable. */
    static long parseSize(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.isEmpty()) {
            return 0;
        }
        long unit = switch (s.charAt(s.length() - 1)) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> 1;
        };
        String digits = unit == 1 ? s : s.substring(0, s.length() - 1);
        long value = parseInt(digits);
        return value > 0 ? value * unit : 0;
    }

    private static int parseInt(String text) {
        String s = text.trim();
        if (s.isEmpty() || s.length() > 9 || !s.chars().allMatch(Character::isDigit)) {
            return 0;
        }
        return Integer.parseInt(s);
    }

    private static String line(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                return "";
            }
            // sysfs reports every file as 4096 bytes long: read a bounded prefix instead of trusting the size
            try (InputStream in = Files.newInputStream(file)) {
                return new String(in.readNBytes(MAX_FILE), StandardCharsets.US_ASCII).trim();
            }
        } catch (IOException e) {
            return "";
        }
    }
}
