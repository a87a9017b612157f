package ai.coopt.train.methods;

import ai.coopt.Setting;
import ai.coopt.UserException;

import static ai.coopt.Setting.LOCAL_CROPS;

/**
 * The settings of one self-supervised method: one small record per method, each with the published defaults
 * ({@code defaults()}) and a check of its own values. Where a paper ties a width to ResNet-50's 2048 features, 0 here
 * means "the backbone's feature width" so the heads scale with the backbone as the published ones do with ResNet-50.
 * The record is written into every run's provenance ({@code method_settings}).
 */
public sealed interface SslConfig permits ByolConfig, SimClrConfig, MocoConfig, SimSiamConfig, DinoConfig, SwavConfig,
        DclConfig {
    /** The method's name as {@code --method} takes it. */
    String method();

    /** The defaults of the method named {@code name}, or a one-line error listing the names. */
    static SslConfig defaults(String name) {
        return switch (name) {
            case MethodSpec.BYOL -> ByolConfig.defaults();
            case MethodSpec.SIMCLR -> SimClrConfig.defaults();
            case MethodSpec.MOCO -> MocoConfig.defaults();
            case MethodSpec.SIMSIAM -> SimSiamConfig.defaults();
            case MethodSpec.DINO -> DinoConfig.defaults();
            case MethodSpec.SWAV -> SwavConfig.defaults();
            case MethodSpec.DCL -> DclConfig.defaults();
            default -> throw new UserException("unknown self-supervised method '" + name + "': choose one of "
                    + String.join(", ", MethodSpec.SSL_NAMES));
        };
    }

    static void positive(Setting what, double value) {
        if (!(value > 0) || !Double.isFinite(value)) {
            throw new UserException(names -> names.of(what) + " must be a positive number, not " + value);
        }
    }

    static void momentum(Setting what, double value) {
        if (!(value >= 0 && value < 1)) {
            throw new UserException(names -> names.of(what) + " must be in [0, 1), not " + value);
        }
    }

    static void width(Setting what, int value, boolean zeroAllowed) {
        if (value < (zeroAllowed ? 0 : 1) || value > 1 << 20) {
            throw new UserException(names -> names.of(what) + " must be "
                    + (zeroAllowed ? "0 (the backbone's width) or " : "")
                    + "a positive width up to 1048576, not " + value);
        }
    }

    static void localCrops(int count) {
        if (count < 0 || count > 64) {
            throw new UserException(names -> names.of(LOCAL_CROPS) + " must be in 0..64, not " + count);
        }
    }

    /** {@code width}, or the backbone's feature width when it is 0. */
    static int orFeatures(int width, int features) {
        return width == 0 ? features : width;
    }
}
