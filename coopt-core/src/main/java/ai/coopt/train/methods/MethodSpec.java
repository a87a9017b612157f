package ai.coopt.train.methods;

import ai.coopt.UserException;

import java.util.List;

/**
 * Which training method to run and its settings, validated on construction (errors are one-line
 * {@link UserException}s). {@code then} is {@code "none"} for a plain {@code rela} and null for the
 * other methods; {@code projectionDim} left null takes the default of the self-supervised method in
 * use (256 for BYOL, 128 for SimCLR) and stays null when there is none.
 *
 * @param name {@code rela}, {@code byol} or {@code simclr}
 * @param then for {@code rela} only: the self-supervised method it hands off to, {@code byol},
 *     {@code simclr} or {@code none} (null means {@code none})
 * @param switchAt for {@code rela} with a {@code then}: hand off once this share of the run is done,
 *     in (0, 1); null for the adaptive rule
 * @param byolMomentum BYOL's target-network momentum m in {@code θ_t ← m·θ_t + (1-m)·θ_o}, in [0, 1)
 * @param simclrTemperature SimCLR's NT-Xent temperature τ, positive
 * @param projectionDim output width of the projector and predictor heads
 * @param hiddenMultiplier hidden width of BYOL's heads in multiples of the backbone's feature
 *     dimension (SimCLR's projector is always feat→feat→projectionDim)
 */
public record MethodSpec(String name, String then, Double switchAt, double byolMomentum, double simclrTemperature,
                         Integer projectionDim, int hiddenMultiplier) {
    public static final String RELA = "rela";
    public static final String BYOL = "byol";
    public static final String SIMCLR = "simclr";
    public static final String NONE = "none";
    public static final double DEFAULT_BYOL_MOMENTUM = 0.99;
    public static final double DEFAULT_SIMCLR_TEMPERATURE = 0.5;
    public static final int DEFAULT_BYOL_PROJECTION = 256;
    public static final int DEFAULT_SIMCLR_PROJECTION = 128;
    public static final int DEFAULT_HIDDEN_MULTIPLIER = 2;

    private static final List<String> NAMES = List.of(RELA, BYOL, SIMCLR);
    private static final List<String> THENS = List.of(BYOL, SIMCLR, NONE);

    public MethodSpec {
        if (name == null || !NAMES.contains(name)) {
            throw new UserException("unknown --method '" + name + "': choose one of " + String.join(", ", NAMES));
        }
        if (!RELA.equals(name) && then != null) {
            throw new UserException("--then is only for --method rela, not " + name);
        }
        if (RELA.equals(name) && then == null) {
            then = NONE;
        }
        if (then != null && !THENS.contains(then)) {
            throw new UserException("--then must be one of " + String.join(", ", THENS) + ", not '" + then + "'");
        }
        if (switchAt != null) {
            if (!RELA.equals(name) || NONE.equals(then)) {
                throw new UserException("--switch-at needs --method rela with --then byol or simclr");
            }
            if (!(switchAt > 0 && switchAt < 1)) {
                throw new UserException("--switch-at must lie strictly between 0 and 1, not " + switchAt);
            }
        }
        if (!(byolMomentum >= 0 && byolMomentum < 1)) {
            throw new UserException("the BYOL momentum must be in [0, 1), not " + byolMomentum);
        }
        if (!(simclrTemperature > 0 && Double.isFinite(simclrTemperature))) {
            throw new UserException("the SimCLR temperature must be positive, not " + simclrTemperature);
        }
        if (projectionDim != null && projectionDim <= 0) {
            throw new UserException("the projection dimension must be positive, not " + projectionDim);
        }
        if (hiddenMultiplier < 1) {
            throw new UserException("the hidden-width multiplier must be at least 1, not " + hiddenMultiplier);
        }
        String ssl = ssl(name, then);
        if (projectionDim == null && ssl != null) {
            projectionDim = BYOL.equals(ssl) ? DEFAULT_BYOL_PROJECTION : DEFAULT_SIMCLR_PROJECTION;
        }
    }

    /** A spec with the paper's defaults for everything but the method, its hand-off and the switch point. */
    public static MethodSpec of(String name, String then, Double switchAt) {
        return new MethodSpec(name, then, switchAt, DEFAULT_BYOL_MOMENTUM, DEFAULT_SIMCLR_TEMPERATURE, null,
                DEFAULT_HIDDEN_MULTIPLIER);
    }

    /** Whether the method regresses targets from an optimized dataset (every {@code rela} variant). */
    public boolean usesTargets() {
        return RELA.equals(name);
    }

    /** The self-supervised method trained (alone, or after ReLA), or null for ReLA throughout. */
    String ssl() {
        return ssl(name, then);
    }

    private static String ssl(String name, String then) {
        if (!RELA.equals(name)) {
            return name;
        }
        return NONE.equals(then) ? null : then;
    }
}
