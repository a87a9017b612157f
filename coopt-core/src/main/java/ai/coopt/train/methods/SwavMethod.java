package ai.coopt.train.methods;

import ai.coopt.data.MultiCrop;
import ai.coopt.engine.NoGrad;
import ai.coopt.nn.Network;
import ai.coopt.train.Losses;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * SwAV (Caron et al. 2020), swapped assignments between views: backbone → projector (Linear-BN-ReLU-Linear) → unit
 * rows → scores against K prototypes (unit rows, a bias-free linear layer). The codes of each full-size view are its
 * scores' Sinkhorn-Knopp equipartition ({@link Losses#sinkhorn}, no gradient); every other view (full-size and the
 * small multi-crop views) predicts them ({@link Losses#swav}). The prototypes are scaled back to unit rows after every
 * step (SwAV does it before each forward pass: the same thing) and are left out of the update for the first
 * {@code freezePrototypesSteps} steps, as SwAV cancels their gradients. No queue (SwAV adds one only for small
 * batches late in long runs).
 */
final class SwavMethod extends HeadedMethod {
    private final Head projector;
    private final Head prototypes;
    private final SwavConfig config;
    private final MultiCrop multiCrop;
    private final Set<String> withoutPrototypes;
    /** The prototypes' weight arrays, scaled back to unit rows after every step. */
    private final List<NDArray> prototypeWeights;
    private boolean prototypesFrozen;

    private SwavMethod(Network backbone, NDManager manager, Head projector, Head prototypes, SwavConfig config) {
        super(backbone, manager, List.of(projector, prototypes));
        this.projector = projector;
        this.prototypes = prototypes;
        this.config = config;
        this.multiCrop = MultiCrops.forBackbone(config.localCrops(), backbone);
        Set<String> rest = new HashSet<>(trainable().keySet());
        rest.removeAll(prototypes.trainable().keySet());
        this.prototypeWeights = prototypes.trainable().values().stream().map(Parameter::getArray).toList();
        this.withoutPrototypes = Set.copyOf(rest);
        this.prototypesFrozen = config.freezePrototypesSteps() > 0;
    }

    /** Draws the projector, then the prototypes (scaled to unit rows), from the engine's generator. */
    static SwavMethod create(Network backbone, SwavConfig config) {
        NDManager manager = backbone.manager().newSubManager();
        try {
            int features = backbone.featureDim();
            Head projector = Head.create("projector", Head.mlp(SslConfig.orFeatures(config.hidden(), features),
                    config.projectionDim()), features, manager);
            Head prototypes = Head.create("prototypes", Head.prototypes(config.prototypes()), config.projectionDim(),
                    manager);
            SwavMethod method = new SwavMethod(backbone, manager, projector, prototypes, config);
            method.normalizePrototypes();
            return method;
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return MethodSpec.SWAV;
    }

    @Override
    public MultiCrop multiCrop() {
        return multiCrop;
    }

    @Override
    public NDArray loss(TrainingBatch batch) {
        List<NDArray> scores = MultiCrops.perView(batch, x -> prototypes.forward(
                Losses.l2Normalize(projector.forward(backbone().forward(x, true), true)), true));
        List<NDArray> codes = new ArrayList<>(2);
        for (int i = 0; i < 2; i++) {
            codes.add(Losses.sinkhorn(scores.get(i).stopGradient(), (float) config.epsilon(),
                    config.sinkhornIterations()));
        }
        return Losses.swav(scores, codes, (float) config.temperature());
    }

    @Override
    public void beforeStep(long step, double fractionDone) {
        prototypesFrozen = step <= config.freezePrototypesSteps();
    }

    /** Without the prototypes while they are frozen. */
    @Override
    public Set<String> active() {
        return prototypesFrozen ? withoutPrototypes : super.active();
    }

    /** The prototypes back to unit rows. */
    @Override
    public void afterStep(long step, double fractionDone, float loss) {
        normalizePrototypes();
    }

    private void normalizePrototypes() {
        try (NoGrad ignored = NoGrad.enter()) {
            for (NDArray w : prototypeWeights) {
                try (NDArray norm = w.norm(new int[] {1}, true); NDArray safe = norm.maximum(1e-12f)) {
                    w.divi(safe);
                }
            }
        }
    }
}
