package ai.coopt.train.methods;

import static ai.coopt.Setting.HIDDEN_DIM;
import static ai.coopt.Setting.PROJECTION_DIM;
import static ai.coopt.Setting.SWAV_EPSILON;
import static ai.coopt.Setting.SWAV_FREEZE_PROTOTYPES_STEPS;
import static ai.coopt.Setting.SWAV_PROTOTYPES;
import static ai.coopt.Setting.SWAV_SINKHORN_ITERATIONS;
import static ai.coopt.Setting.TEMPERATURE;

/**
 * SwAV (Caron et al. 2020): projections are assigned to prototypes by Sinkhorn-Knopp, and each view predicts the
 * assignment of the other full-size views.
 *
 * @param projectionDim the projection (128)
 * @param hidden the projector's hidden width; 0 = the backbone's feature width (2048 on ResNet-50, as published)
 * @param prototypes prototypes (3000)
 * @param temperature the softmax's τ (0.1)
 * @param epsilon Sinkhorn's ε (0.05)
 * @param sinkhornIterations Sinkhorn's iterations (3)
 * @param freezePrototypesSteps the first steps during which the prototypes are not updated (313)
 * @param localCrops small views per image (6: the paper's 2×224 + 6×96); their side is 96/224 of the image's
 */
public record SwavConfig(int projectionDim, int hidden, int prototypes, double temperature, double epsilon,
                         int sinkhornIterations, int freezePrototypesSteps, int localCrops) implements SslConfig {
    public SwavConfig {
        SslConfig.width(PROJECTION_DIM, projectionDim, false);
        SslConfig.width(HIDDEN_DIM, hidden, true);
        SslConfig.width(SWAV_PROTOTYPES, prototypes, false);
        SslConfig.positive(TEMPERATURE, temperature);
        SslConfig.positive(SWAV_EPSILON, epsilon);
        if (sinkhornIterations < 1 || sinkhornIterations > 100) {
            throw new ai.coopt.UserException(names -> names.of(SWAV_SINKHORN_ITERATIONS) + " must be in 1..100, not "
                    + sinkhornIterations);
        }
        if (freezePrototypesSteps < 0) {
            throw new ai.coopt.UserException(names -> names.of(SWAV_FREEZE_PROTOTYPES_STEPS)
                    + " must be zero or positive, not "
                    + freezePrototypesSteps);
        }
        SslConfig.localCrops(localCrops);
    }

    public static SwavConfig defaults() {
        return new SwavConfig(128, 0, 3000, 0.1, 0.05, 3, 313, 6);
    }

    @Override
    public String method() {
        return MethodSpec.SWAV;
    }
}
