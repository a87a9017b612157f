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

    static void channels(int channels) {
        if (channels != 1 && channels != 3) {
            throw new UserException("--channels must be 1 or 3, not " + channels);
        }
    }
}
