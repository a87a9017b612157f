package ai.coopt.data;

import ai.coopt.UserException;

/** The two splits every reader knows. */
public final class Splits {
    private Splits() {
    }

    /** Checks that {@code split} is {@code train} or {@code test}. */
    public static void check(String split) {
        if (!"train".equals(split) && !"test".equals(split)) {
            throw new UserException("unknown split '" + split + "'; use train or test");
        }
    }
}
