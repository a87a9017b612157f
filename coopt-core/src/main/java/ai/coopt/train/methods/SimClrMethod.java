package ai.coopt.train.methods;

import ai.coopt.nn.Network;
import ai.coopt.train.Losses;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.List;

/**
 * SimCLR (Chen et al. 2020): backbone → projector (Linear-BN-ReLU-Linear, feat → hidden →
 * {@code projectionDim}), trained with the NT-Xent loss over the 2N projected views at temperature τ. DCL (Yeh et al.
 * 2022) is the same method with the decoupled contrastive loss, which drops the positive pair from the softmax's
 * denominator (removing the negative-positive coupling that makes SimCLR need large batches).
 */
final class SimClrMethod extends HeadedMethod {
    private final String name;
    private final Head projector;
    private final float temperature;
    private final boolean decoupled;

    private SimClrMethod(String name, Network backbone, NDManager manager, Head projector, float temperature,
                         boolean decoupled) {
        super(backbone, manager, List.of(projector));
        this.name = name;
        this.projector = projector;
        this.temperature = temperature;
        this.decoupled = decoupled;
    }

    static SimClrMethod create(Network backbone, SimClrConfig config) {
        return create(MethodSpec.SIMCLR, backbone, config.projectionDim(), config.hidden(), config.temperature(), false);
    }

    static SimClrMethod create(Network backbone, DclConfig config) {
        return create(MethodSpec.DCL, backbone, config.projectionDim(), config.hidden(), config.temperature(), true);
    }

    /** Draws the projector from the engine's generator. */
    private static SimClrMethod create(String name, Network backbone, int projectionDim, int hidden, double temperature,
                                       boolean decoupled) {
        NDManager manager = backbone.manager().newSubManager();
        try {
            int features = backbone.featureDim();
            Head projector = Head.create("projector", Head.mlp(SslConfig.orFeatures(hidden, features), projectionDim),
                    features, manager);
            return new SimClrMethod(name, backbone, manager, projector, (float) temperature, decoupled);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public NDArray loss(TrainingBatch batch) {
        NDList halves = projector.forward(backbone().forward(Views.both(batch), true), true).split(2);
        return decoupled ? Losses.decoupledContrastive(halves.get(0), halves.get(1), temperature)
                : Losses.ntXent(halves.get(0), halves.get(1), temperature);
    }

    /** Nothing to do: SimCLR and DCL keep no state between steps. */
    @Override
    public void afterStep(long step, double fractionDone, float loss) {
    }
}
