package ai.coopt.train;

import ai.coopt.UserException;

import java.util.Locale;

/**
 * A hyper-parameter that changes over a run, as a function of the share of the run done (0 at the first step, 1 at
 * the end; steps for an epoch budget, training seconds for a time budget), so a resumed run takes exactly the values
 * an uninterrupted one would. Three shapes, as the self-supervised reference code uses them:
 * <ul>
 *   <li>{@code constant}: {@code start} throughout;</li>
 *   <li>{@code cosine}: after an optional linear warm-up from {@code warmupFrom} to {@code start} over the first
 *       {@code warmup} share of the run, a half cosine from {@code start} to {@code end}:
 *       {@code end + (start − end)·(1 + cos(π·u))/2}, u the share of the post-warm-up part done;</li>
 *   <li>{@code linear}: the warm-up only: {@code warmupFrom} to {@code start} over {@code warmup}, then {@code start}
 *       (DINO's teacher temperature).</li>
 * </ul>
 * At the start the value is {@code warmupFrom} when there is a warm-up (else {@code start}); at the warm-up's end it is
 * {@code start}; at the end {@code end} for a cosine, {@code start} for the others.
 *
 * @param shape {@code constant}, {@code cosine} or {@code linear}
 * @param start the value after the warm-up (and at the start without one)
 * @param end the cosine's value at the end of the run
 * @param warmup the share of the run the warm-up takes, in [0, 1)
 * @param warmupFrom the value the warm-up starts from
 */
public record Schedule(String shape, double start, double end, double warmup, double warmupFrom) {
    public static final String CONSTANT = "constant";
    public static final String COSINE = "cosine";
    public static final String LINEAR = "linear";

    public Schedule {
        if (!CONSTANT.equals(shape) && !COSINE.equals(shape) && !LINEAR.equals(shape)) {
            throw new UserException("unknown schedule '" + shape + "': choose constant, cosine or linear");
        }
        if (!Double.isFinite(start) || !Double.isFinite(end) || !Double.isFinite(warmupFrom)) {
            throw new UserException("a schedule's values must be finite, not " + start + " → " + end);
        }
        if (!(warmup >= 0 && warmup < 1)) {
            throw new UserException("a warm-up must take a share of the run in [0, 1), not " + warmup);
        }
    }

    /** The same value throughout. */
    public static Schedule constant(double value) {
        return new Schedule(CONSTANT, value, value, 0, value);
    }

    /** A half cosine from {@code start} to {@code end} after a linear warm-up from 0 over {@code warmup} of the run. */
    public static Schedule cosine(double start, double end, double warmup) {
        return new Schedule(COSINE, start, end, warmup, 0);
    }

    /** A linear ramp from {@code from} to {@code to} over the first {@code warmup} share of the run, then {@code to}. */
    public static Schedule warmup(double from, double to, double warmup) {
        return new Schedule(LINEAR, to, to, warmup, from);
    }

    /** The value once {@code fractionDone} of the run is done (clamped to [0, 1]). */
    public double at(double fractionDone) {
        double f = Math.max(0, Math.min(1, fractionDone));
        if (CONSTANT.equals(shape)) {
            return start;
        }
        if (f < warmup) {
            return warmupFrom + (start - warmupFrom) * f / warmup;
        }
        if (LINEAR.equals(shape)) {
            return start;
        }
        double u = warmup >= 1 ? 1 : (f - warmup) / (1 - warmup);
        return end + (start - end) * (1 + Math.cos(Math.PI * u)) / 2;
    }

    /** e.g. {@code cosine 0.001 → 0 (warm-up 0.1 from 0)}, for logs and help. */
    @Override
    public String toString() {
        return switch (shape) {
            case CONSTANT -> String.format(Locale.ROOT, "constant %g", start);
            case LINEAR -> String.format(Locale.ROOT, "linear %g → %g over %g of the run", warmupFrom, start, warmup);
            default -> String.format(Locale.ROOT, "cosine %g → %g%s", start, end,
                    warmup > 0 ? String.format(Locale.ROOT, " (warm-up %g from %g)", warmup, warmupFrom) : "");
        };
    }
}
