package ai.coopt.train.methods;

import static ai.coopt.Setting.BYOL_MOMENTUM;
import static ai.coopt.Setting.HIDDEN_MULTIPLIER;
import static ai.coopt.Setting.PROJECTION_DIM;

/**
 * BYOL (Grill et al. 2020) as ReLA's reference code runs it.
 *
 * @param projectionDim projector and predictor output (256, the paper's)
 * @param hiddenMultiplier their hidden width in multiples of the backbone's feature width (2: the paper's 4096 on
 *     ResNet-50's 2048)
 * @param momentum the target network's momentum m, constant (0.99, ReLA's code; the paper anneals 0.996 → 1)
 */
public record ByolConfig(int projectionDim, int hiddenMultiplier, double momentum) implements SslConfig {
    public ByolConfig {
        SslConfig.width(PROJECTION_DIM, projectionDim, false);
        if (hiddenMultiplier < 1 || hiddenMultiplier > 64) {
            throw new ai.coopt.UserException(names -> names.of(HIDDEN_MULTIPLIER) + " must be in 1..64, not "
                    + hiddenMultiplier);
        }
        SslConfig.momentum(BYOL_MOMENTUM, momentum);
    }

    public static ByolConfig defaults() {
        return new ByolConfig(256, 2, 0.99);
    }

    @Override
    public String method() {
        return MethodSpec.BYOL;
    }
}
