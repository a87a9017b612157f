package ai.coopt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * User and system CPU time of this process, read from {@code /proc/self/stat} (Linux). High system
 * time on a compute-bound loop means memory is being returned to and faulted in from the kernel.
 */
record CpuTimes(double userSeconds, double systemSeconds) {
    private static final double TICKS_PER_SECOND = 100.0;

    static CpuTimes now() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields after the command name start at field 3 (state); utime is field 14, stime 15
            return new CpuTimes(Long.parseLong(f[11]) / TICKS_PER_SECOND, Long.parseLong(f[12]) / TICKS_PER_SECOND);
        } catch (IOException | RuntimeException e) {
            return new CpuTimes(Double.NaN, Double.NaN);
        }
    }

    CpuTimes plus(CpuTimes o) {
        return new CpuTimes(userSeconds + o.userSeconds, systemSeconds + o.systemSeconds);
    }

    CpuTimes minus(CpuTimes o) {
        return new CpuTimes(userSeconds - o.userSeconds, systemSeconds - o.systemSeconds);
    }
}
