package ai.coopt.cli;

import ai.coopt.UserException;

/** Validation of numeric options, failing with one line that names the option. */
final class Check {
    private Check() {}

    static void positive(String option, long value) {
        atLeast(option, value, 1);
    }

    static void atLeast(String option, long value, long min) {
        if (value < min) {
            throw new UserException(option + " must be at least " + min + ", not " + value);
        }
    }

    /**
     * A thread count: at least {@code min} and at most this machine's cores (more threads than cores only slow
     * the work down, and an absurd count would start thousands of threads).
     */
    static void threads(String option, int value, int min) {
        atLeast(option, value, min);
        int cores = Runtime.getRuntime().availableProcessors();
        if (value > cores) {
            throw new UserException(option + " " + value + " exceeds the " + cores + " cores of this machine; use at most "
                    + cores + (min == 0 ? " (0 = one per core)" : ""));
        }
    }

    static void channels(int channels) {
        if (channels != 1 && channels != 3) {
            throw new UserException("--channels must be 1 or 3, not " + channels);
        }
    }
}
