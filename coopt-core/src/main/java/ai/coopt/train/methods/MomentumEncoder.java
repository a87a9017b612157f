package ai.coopt.train.methods;

import ai.coopt.engine.Precision;
import ai.coopt.engine.Layouts;
import ai.coopt.nn.Architectures;
import ai.coopt.nn.FreeingForward;
import ai.coopt.nn.Network;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.Pair;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BYOL's target network: a copy of the online backbone and projector whose weights follow the online
 * ones by an exponential moving average, {@code θ_t ← m·θ_t + (1-m)·θ_o}, applied in place after
 * every optimiser step.
 *
 * <p>No gradient reaches it: its parameters are frozen (their arrays never require a gradient), so
 * a forward pass on images records no graph, and its output is detached besides. It always runs in
 * training mode (batch statistics), as in BYOL; its batch-norm running statistics are therefore
 * never used in training and are a plain copy of the online network's after each update, so that a
 * saved target is a usable network.
 */
final class MomentumEncoder {
    private final Block backbone;
    private final Head projector;
    private final ParameterStore store;
    private final Precision precision;
    /** Online and target parameters of the same role, in the networks' order. */
    private final List<Parameter[]> pairs = new ArrayList<>();

    private MomentumEncoder(Block backbone, Head projector, NDManager manager, Precision precision) {
        this.backbone = backbone;
        this.projector = projector;
        this.store = new ParameterStore(manager, false);
        this.precision = precision;
    }

    /**
     * A target network equal to {@code online} followed by {@code onlineProjector}, built in
     * {@code manager}. {@code freshProjector} is an uninitialised block of the projector's structure.
     * Draws nothing from the engine's generator.
     */
    static MomentumEncoder create(Network online, Head onlineProjector, Block freshProjector, int projectorInput,
                                  NDManager manager) {
        Block backbone = Architectures.create(online.arch()).block();
        backbone.setInitializer(Initializer.ZEROS, Parameter.Type.WEIGHT);
        backbone.initialize(manager, DataType.FLOAT32, online.inputShape());
        Layouts.toChannelsLast(backbone);
        backbone.freezeParameters(true);
        Head projector = Head.create(onlineProjector.name(), freshProjector, projectorInput, manager, Initializer.ZEROS);
        projector.block().freezeParameters(true);
        MomentumEncoder target = new MomentumEncoder(backbone, projector, manager, online.precision());
        target.pair(online.block(), backbone);
        target.pair(onlineProjector.block(), projector.block());
        for (Parameter[] p : target.pairs) {
            copy(p[0].getArray(), p[1].getArray());
        }
        return target;
    }

    private void pair(Block online, Block target) {
        if (online.getParameters().size() != target.getParameters().size()) {
            throw new IllegalStateException("the target network does not have the online network's parameters");
        }
        Iterator<Pair<String, Parameter>> t = target.getParameters().iterator();
        for (Pair<String, Parameter> o : online.getParameters()) {
            Pair<String, Parameter> match = t.next();
            if (!o.getKey().equals(match.getKey())) {
                throw new IllegalStateException("target parameter " + match.getKey() + " does not match " + o.getKey());
            }
            pairs.add(new Parameter[] {o.getValue(), match.getValue()});
        }
    }

    /**
     * Projections of a batch of images, detached from any graph, in the images' manager.
     *
     * <p>Every intermediate of the pass (each layer's output, and in bf16 the weights' copies) lives in a manager of
     * its own that closes before this returns: nothing needs them, as no gradient flows here, yet in the images'
     * manager they would stay until the step ends, beside the online network's graph. For a mobilenetv2 BYOL student
     * at batch 64 that was 3.4 GB of the 8.3 GB the step held.
     */
    NDArray forward(NDArray images) {
        NDManager owner = images.getManager();
        try (NDManager pass = owner.newSubManager()) {
            // the engine puts an operation's result in its first operand's manager: the pass's, while it runs
            images.tempAttach(pass);
            // the target computes in the online network's precision
            NDArray features = FreeingForward.forward(backbone, store, images, true, precision);
            NDArray out = projector.forward(features, true).stopGradient();
            out.attach(owner);
            return out;
        }
    }

    /**
     * Moves every weight towards the online one, {@code θ_t ← m·θ_t + (1-m)·θ_o}, and copies the
     * online running statistics; all in place, each temporary closed at once.
     */
    void update(float momentum) {
        for (Parameter[] p : pairs) {
            if (p[0].requiresGradient()) {
                try (NDArray online = p[0].getArray().stopGradient(); NDArray share = online.mul(1f - momentum)) {
                    p[1].getArray().muli(momentum).addi(share);
                }
            } else {
                copy(p[0].getArray(), p[1].getArray());
            }
        }
    }

    /** Every array of the target, as {@code target.backbone.KEY} and {@code target.head.NAME.KEY}. */
    Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>(NamedParameters.fixed("target.backbone.", backbone));
        out.putAll(NamedParameters.fixed("target." + projector.prefix(), projector.block()));
        return out;
    }

    private static void copy(NDArray from, NDArray to) {
        try (NDArray values = from.stopGradient()) {
            to.muli(0f).addi(values);
        }
    }
}
