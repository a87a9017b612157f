package ai.coopt.train.methods;

import static ai.coopt.Setting.HIDDEN_DIM;
import static ai.coopt.Setting.PROJECTION_DIM;
import static ai.coopt.Setting.TEMPERATURE;

/**
 * DCL, decoupled contrastive learning (Yeh et al. 2022): SimCLR's projector and pairs, with the positive removed from
 * the loss's denominator.
 *
 * @param projectionDim projector output (128)
 * @param hidden the projector's hidden width; 0 = the backbone's feature width
 * @param temperature τ (0.1, the paper's)
 */
public record DclConfig(int projectionDim, int hidden, double temperature) implements SslConfig {
    public DclConfig {
        SslConfig.width(PROJECTION_DIM, projectionDim, false);
        SslConfig.width(HIDDEN_DIM, hidden, true);
        SslConfig.positive(TEMPERATURE, temperature);
    }

    public static DclConfig defaults() {
        return new DclConfig(128, 0, 0.1);
    }

    @Override
    public String method() {
        return MethodSpec.DCL;
    }
}
