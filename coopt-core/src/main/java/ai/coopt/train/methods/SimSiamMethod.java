package ai.coopt.train.methods;

import ai.coopt.nn.Network;
import ai.coopt.train.Losses;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.List;
import java.util.Set;

/**
 * SimSiam (Chen and He 2021): backbone → projector (three Linear-BN layers) → predictor (Linear-BN-ReLU-Linear
 * bottleneck). Each view's prediction regresses the other view's projection with a stop-gradient, loss
 * {@code D(p1, sg(z2))/2 + D(p2, sg(z1))/2}, D the negative cosine similarity, so the loss lies in [−1, 1]. No
 * momentum encoder and no negatives; the stop-gradient is what keeps it from collapsing. The predictor keeps the base
 * learning rate when the configuration says so (the paper's), through {@link #fixedLearningRate()}.
 */
final class SimSiamMethod extends HeadedMethod {
    private final Head projector;
    private final Head predictor;
    private final Set<String> fixed;

    private SimSiamMethod(Network backbone, NDManager manager, Head projector, Head predictor, boolean fixPredictorLr) {
        super(backbone, manager, List.of(projector, predictor));
        this.projector = projector;
        this.predictor = predictor;
        this.fixed = fixPredictorLr ? Set.copyOf(predictor.trainable().keySet()) : Set.of();
    }

    /** Draws the projector, then the predictor, from the engine's generator. */
    static SimSiamMethod create(Network backbone, SimSiamConfig config) {
        NDManager manager = backbone.manager().newSubManager();
        try {
            int features = backbone.featureDim();
            int width = SslConfig.orFeatures(config.projectionDim(), features);
            int bottleneck = config.predictorHidden() == 0 ? Math.max(1, width / 4) : config.predictorHidden();
            Head projector = Head.create("projector", Head.simSiamProjector(width), features, manager);
            Head predictor = Head.create("predictor", Head.mlp(bottleneck, width), width, manager);
            return new SimSiamMethod(backbone, manager, projector, predictor, config.fixPredictorLr());
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return MethodSpec.SIMSIAM;
    }

    /** The mean over all 2N rows equals the average of the two directions. */
    @Override
    public NDArray loss(TrainingBatch batch) {
        NDArray z = projector.forward(backbone().forward(Views.both(batch), true), true);
        NDArray p = predictor.forward(z, true);
        return Losses.negativeCosine(p, Losses.swapHalves(z).stopGradient());
    }

    @Override
    public Set<String> fixedLearningRate() {
        return fixed;
    }

    /** Nothing to do: SimSiam keeps no state between steps. */
    @Override
    public void afterStep(long step, double fractionDone, float loss) {
    }
}
