package ai.coopt.train.methods;

import static ai.coopt.Setting.HIDDEN_DIM;
import static ai.coopt.Setting.PROJECTION_DIM;
import static ai.coopt.Setting.TEMPERATURE;

/**
 * SimCLR (Chen et al. 2020).
 *
 * @param projectionDim projector output (128, the paper's)
 * @param hidden the projector's hidden width; 0 = the backbone's feature width (the paper's 2048 on ResNet-50)
 * @param temperature NT-Xent's τ (0.5, the paper's CIFAR-10 value)
 */
public record SimClrConfig(int projectionDim, int hidden, double temperature) implements SslConfig {
    public SimClrConfig {
        SslConfig.width(PROJECTION_DIM, projectionDim, false);
        SslConfig.width(HIDDEN_DIM, hidden, true);
        SslConfig.positive(TEMPERATURE, temperature);
    }

    public static SimClrConfig defaults() {
        return new SimClrConfig(128, 0, 0.5);
    }

    @Override
    public String method() {
        return MethodSpec.SIMCLR;
    }
}
