package ai.coopt.train.methods;

import ai.coopt.nn.Network;
import ai.coopt.train.Losses;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.List;
import java.util.Map;

/**
 * BYOL (Grill et al. 2020) as ReLA uses it: online network = backbone → projector → predictor
 * (both Linear-BN-ReLU-Linear, hidden width {@code hidden}, output {@code projectionDim}); target
 * network = a {@link MomentumEncoder} copy of backbone → projector. The loss is symmetric: each
 * view's prediction regresses the target projection of the other view with the normalised squared
 * error {@code 2 - 2 cos}; the two directions are averaged (the mean over all 2N rows), so the loss
 * lies in [0, 4]. After every step the target moves towards the online network with momentum m.
 */
final class ByolMethod extends HeadedMethod {
    private final Head projector;
    private final Head predictor;
    private final MomentumEncoder target;
    private final float momentum;

    private ByolMethod(Network backbone, NDManager manager, Head projector, Head predictor, MomentumEncoder target,
                       float momentum) {
        super(backbone, manager, List.of(projector, predictor));
        this.projector = projector;
        this.predictor = predictor;
        this.target = target;
        this.momentum = momentum;
    }

    /** Draws the projector, then the predictor, from the engine's generator; the target copies them. */
    static ByolMethod create(Network backbone, ByolConfig config) {
        NDManager manager = backbone.manager().newSubManager();
        try {
            int features = backbone.featureDim();
            int hidden = config.hiddenMultiplier() * features;
            int projectionDim = config.projectionDim();
            float momentum = (float) config.momentum();
            Head projector = Head.create("projector", Head.mlp(hidden, projectionDim), features, manager);
            Head predictor = Head.create("predictor", Head.mlp(hidden, projectionDim), projectionDim, manager);
            MomentumEncoder target = MomentumEncoder.create(backbone, projector, Head.mlp(hidden, projectionDim),
                    features, manager);
            return new ByolMethod(backbone, manager, projector, predictor, target, momentum);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return MethodSpec.BYOL;
    }

    @Override
    public NDArray loss(TrainingBatch batch) {
        NDArray views = Views.both(batch);
        // the target first: its pass is over and freed before the online network's graph is built, so the step's
        // peak is the larger of the two, not their sum
        NDArray targets = target.forward(views);
        NDArray online = predictor.forward(projector.forward(backbone().forward(views, true), true), true);
        return Losses.normalizedSquaredError(online, Losses.swapHalves(targets));
    }

    /** The momentum update of the target network. */
    @Override
    public void afterStep(long step, double fractionDone, float loss) {
        target.update(momentum);
    }

    /** The target network's arrays, {@code target.backbone.KEY} and {@code target.head.projector.KEY}. */
    @Override
    Map<String, NDArray> extraState() {
        return target.state();
    }
}
