package ai.coopt.train.methods;

import ai.coopt.nn.Network;
import ai.coopt.train.Losses;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.List;

/**
 * SimCLR (Chen et al. 2020): backbone → projector (Linear-BN-ReLU-Linear, feat → feat →
 * {@code projectionDim}), trained with the NT-Xent loss over the 2N projected views at temperature τ.
 */
final class SimClrMethod extends HeadedMethod {
    private final Head projector;
    private final float temperature;

    private SimClrMethod(Network backbone, NDManager manager, Head projector, float temperature) {
        super(backbone, manager, List.of(projector));
        this.projector = projector;
        this.temperature = temperature;
    }

    /** Draws the projector from the engine's generator. */
    static SimClrMethod create(Network backbone, int projectionDim, float temperature) {
        NDManager manager = backbone.manager().newSubManager();
        try {
            int features = backbone.featureDim();
            Head projector = Head.create("projector", Head.mlp(features, projectionDim), features, manager);
            return new SimClrMethod(backbone, manager, projector, temperature);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return MethodSpec.SIMCLR;
    }

    @Override
    public boolean needsTargets() {
        return false;
    }

    @Override
    public NDArray loss(TrainingBatch batch) {
        NDList halves = projector.forward(backbone().forward(Views.both(batch), true), true).split(2);
        return Losses.ntXent(halves.get(0), halves.get(1), temperature);
    }

    /** Nothing to do: SimCLR keeps no state between steps. */
    @Override
    public void afterStep(long step, double fractionDone, float loss) {
    }
}
