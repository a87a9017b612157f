package ai.coopt.train.methods;

import static ai.coopt.Setting.HIDDEN_DIM;
import static ai.coopt.Setting.MOCO_MOMENTUM;
import static ai.coopt.Setting.MOCO_QUEUE;
import static ai.coopt.Setting.PROJECTION_DIM;
import static ai.coopt.Setting.TEMPERATURE;

/**
 * MoCo v2 (Chen, Fan, Girshick and He 2020): a key encoder that follows the query encoder by momentum, and a queue of
 * past keys as negatives.
 *
 * @param projectionDim the MLP head's output (128)
 * @param hidden its hidden width; 0 = the backbone's feature width (2048 on ResNet-50, as published)
 * @param queue keys kept as negatives (65536)
 * @param momentum the key encoder's momentum (0.999)
 * @param temperature InfoNCE's τ (0.2)
 */
public record MocoConfig(int projectionDim, int hidden, int queue, double momentum, double temperature)
        implements SslConfig {
    public MocoConfig {
        SslConfig.width(PROJECTION_DIM, projectionDim, false);
        SslConfig.width(HIDDEN_DIM, hidden, true);
        if (queue < 1 || queue > 1 << 20) {
            throw new ai.coopt.UserException(names -> names.of(MOCO_QUEUE) + " must be in 1..1048576 keys, not "
                    + queue);
        }
        SslConfig.momentum(MOCO_MOMENTUM, momentum);
        SslConfig.positive(TEMPERATURE, temperature);
    }

    public static MocoConfig defaults() {
        return new MocoConfig(128, 0, 65536, 0.999, 0.2);
    }

    @Override
    public String method() {
        return MethodSpec.MOCO;
    }
}
