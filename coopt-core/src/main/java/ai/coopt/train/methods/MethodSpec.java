package ai.coopt.train.methods;

import ai.coopt.UserException;

import java.util.List;

import static ai.coopt.Setting.METHOD;
import static ai.coopt.Setting.SWITCH_AT;
import static ai.coopt.Setting.THEN;

/**
 * Which training method to run and its settings, validated on construction (errors are one-line
 * {@link UserException}s): ReLA (regress an optimized dataset's targets), optionally handing off to a
 * self-supervised method, or a self-supervised method alone. The self-supervised method's settings are its own
 * record ({@link SslConfig}).
 *
 * @param name {@code rela} or one of {@link #SSL_NAMES}
 * @param ssl the self-supervised method trained (alone, or after ReLA), or null for ReLA throughout
 * @param switchAt for {@code rela} with a hand-off: hand off once this share of the run is done, in (0, 1); null for
 *     the adaptive rule
 */
public record MethodSpec(String name, SslConfig ssl, Double switchAt) {
    public static final String RELA = "rela";
    public static final String BYOL = "byol";
    public static final String SIMCLR = "simclr";
    public static final String MOCO = "moco";
    public static final String SIMSIAM = "simsiam";
    public static final String DINO = "dino";
    public static final String SWAV = "swav";
    public static final String DCL = "dcl";
    public static final String NONE = "none";

    /** The self-supervised methods, in the order of the CoOpt paper's Table 1 where it has them. */
    public static final List<String> SSL_NAMES = List.of(SIMCLR, BYOL, DINO, MOCO, SIMSIAM, SWAV, DCL);

    public MethodSpec {
        if (name == null || !(RELA.equals(name) || SSL_NAMES.contains(name))) {
            throw new UserException(names -> "unknown " + names.of(METHOD) + " '" + name + "': choose one of rela, "
                    + String.join(", ", SSL_NAMES));
        }
        if (!RELA.equals(name) && (ssl == null || !ssl.method().equals(name))) {
            throw new IllegalArgumentException("method " + name + " needs its own settings, not "
                    + (ssl == null ? "none" : ssl.method() + "'s"));
        }
        if (switchAt != null) {
            if (!RELA.equals(name) || ssl == null) {
                throw new UserException(names -> names.of(SWITCH_AT) + " needs " + names.of(METHOD) + " rela with "
                        + names.of(THEN) + " one of " + String.join(", ", SSL_NAMES));
            }
            if (!(switchAt > 0 && switchAt < 1)) {
                throw new UserException(names -> names.of(SWITCH_AT) + " must lie strictly between 0 and 1, not "
                        + switchAt);
            }
        }
    }

    /**
     * A spec with the published defaults of the method.
     *
     * @param then for {@code rela} only: the self-supervised method it hands off to, or {@code none} (null means none)
     */
    public static MethodSpec of(String name, String then, Double switchAt) {
        if (name != null && !RELA.equals(name) && then != null) {
            throw new UserException(names -> names.of(THEN) + " is only for " + names.of(METHOD) + " rela, not "
                    + name);
        }
        if (RELA.equals(name)) {
            if (then == null || NONE.equals(then)) {
                return new MethodSpec(name, null, switchAt);
            }
            if (!SSL_NAMES.contains(then)) {
                throw new UserException(names -> names.of(THEN) + " must be one of " + String.join(", ", SSL_NAMES)
                        + " or none, not '" + then + "'");
            }
            return new MethodSpec(name, SslConfig.defaults(then), switchAt);
        }
        if (name == null || !SSL_NAMES.contains(name)) {
            throw new UserException(names -> "unknown " + names.of(METHOD) + " '" + name + "': choose one of rela, "
                    + String.join(", ", SSL_NAMES));
        }
        return new MethodSpec(name, SslConfig.defaults(name), switchAt);
    }

    /** This spec with other settings for its self-supervised method (of the same method). */
    public MethodSpec with(SslConfig settings) {
        return new MethodSpec(name, settings, switchAt);
    }

    /** Whether the method regresses targets from an optimized dataset (every {@code rela} variant). */
    public boolean usesTargets() {
        return RELA.equals(name);
    }

    /** For {@code rela}: the method it hands off to, or {@code none}; null for the others. */
    public String then() {
        return RELA.equals(name) ? (ssl == null ? NONE : ssl.method()) : null;
    }
}
