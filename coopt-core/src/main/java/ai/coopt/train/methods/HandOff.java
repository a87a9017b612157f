package ai.coopt.train.methods;

/**
 * When ReLA hands off to self-supervised learning. Adaptive (ReLA's rule): two moving averages of the
 * ReLA loss, {@code fast ← 0.999·fast + 0.001·loss} (from 1.0) and {@code slow ← 0.99·slow + 0.01·fast}
 * (from 2.0); with {@code rho = exp(-max(slow - fast, 0))}, hand off once rho ≥ 0.995, i.e. once the
 * loss has stopped falling. Constant: hand off once the share of the run done reaches a fixed point.
 * The averages are kept in both variants, for the metrics and checkpoints.
 */
final class HandOff {
    static final double FAST_START = 1.0;
    static final double SLOW_START = 2.0;
    static final double RHO_THRESHOLD = 0.995;
    private static final double FAST_KEEP = 0.999;
    private static final double SLOW_KEEP = 0.99;

    private final Double switchAt;
    private double fast = FAST_START;
    private double slow = SLOW_START;

    /** @param switchAt the share of the run after which to hand off, or null for the adaptive rule */
    HandOff(Double switchAt) {
        this.switchAt = switchAt;
    }

    /** Takes the ReLA loss of one step; true when training should now move on to the SSL method. */
    boolean observe(double fractionDone, double loss) {
        fast = FAST_KEEP * fast + (1 - FAST_KEEP) * loss;
        slow = SLOW_KEEP * slow + (1 - SLOW_KEEP) * fast;
        return switchAt == null ? rho() >= RHO_THRESHOLD : fractionDone >= switchAt;
    }

    double rho() {
        return Math.exp(-Math.max(slow - fast, 0));
    }

    double fast() {
        return fast;
    }

    double slow() {
        return slow;
    }

    void restore(double fast, double slow) {
        this.fast = fast;
        this.slow = slow;
    }
}
