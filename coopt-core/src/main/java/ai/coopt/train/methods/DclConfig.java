package ai.coopt.train.methods;

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
        SslConfig.width("--projection-dim", projectionDim, false);
        SslConfig.width("--hidden-dim", hidden, true);
        SslConfig.positive("--temperature", temperature);
    }

    public static DclConfig defaults() {
        return new DclConfig(128, 0, 0.1);
    }

    @Override
    public String method() {
        return MethodSpec.DCL;
    }
}
