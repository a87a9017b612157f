package ai.coopt.train.methods;

import static ai.coopt.Setting.PROJECTION_DIM;
import static ai.coopt.Setting.SIMSIAM_PREDICTOR_HIDDEN;

/**
 * SimSiam (Chen and He 2021): a three-layer projector with batch norm on every layer and a two-layer bottleneck
 * predictor, trained with a stop-gradient on the projection.
 *
 * @param projectionDim the projector's hidden and output width; 0 = the backbone's feature width (the paper's 2048 on
 *     ResNet-50)
 * @param predictorHidden the predictor's bottleneck; 0 = a quarter of the projection (the paper's 512 of 2048)
 * @param fixPredictorLr whether the predictor keeps the base learning rate while the rest follows the schedule (the
 *     paper's choice, which it found to work better)
 */
public record SimSiamConfig(int projectionDim, int predictorHidden, boolean fixPredictorLr) implements SslConfig {
    public SimSiamConfig {
        SslConfig.width(PROJECTION_DIM, projectionDim, true);
        SslConfig.width(SIMSIAM_PREDICTOR_HIDDEN, predictorHidden, true);
    }

    public static SimSiamConfig defaults() {
        return new SimSiamConfig(0, 0, true);
    }

    @Override
    public String method() {
        return MethodSpec.SIMSIAM;
    }
}
