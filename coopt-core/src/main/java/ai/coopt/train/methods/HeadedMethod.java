package ai.coopt.train.methods;

import ai.coopt.nn.Network;
import ai.coopt.train.Method;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;

/**
 * A single-phase method: the backbone plus heads that live in a sub-manager of the backbone's
 * manager. Closing it frees the heads (and anything else in that sub-manager), never the backbone.
 */
abstract class HeadedMethod implements Method {
    private final Network backbone;
    private final NDManager manager;
    private final List<Head> heads;
    /** The names of {@link #trainable()}, fixed for the run: a single method uses all of them in every step. */
    private final Set<String> active;

    HeadedMethod(Network backbone, NDManager manager, List<Head> heads) {
        this.backbone = backbone;
        this.manager = manager;
        this.heads = List.copyOf(heads);
        this.active = Set.copyOf(trainable().keySet());
    }

    @Override
    public Set<String> active() {
        return active;
    }

    /** No targets: only ReLA regresses them. */
    @Override
    public boolean needsTargets() {
        return false;
    }

    @Override
    public Network backbone() {
        return backbone;
    }

    /** {@code backbone.KEY} for the backbone's trainable parameters, then {@code head.NAME.KEY} per head. */
    @Override
    public Map<String, Parameter> trainable() {
        Map<String, Parameter> out = NamedParameters.trainable("backbone.", backbone.block());
        for (Head h : heads) {
            NamedParameters.merge(out, h.trainable());
        }
        return out;
    }

    /** The heads' batch-norm running statistics, then {@link #extraState()}. */
    @Override
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Head h : heads) {
            NamedParameters.merge(out, h.state());
        }
        NamedParameters.merge(out, extraState());
        return out;
    }

    /** State beyond the heads' own (a momentum encoder); none by default. */
    Map<String, NDArray> extraState() {
        return Map.of();
    }

    /** None: a single-phase method keeps no scalar state. */
    @Override
    public Map<String, Double> scalars() {
        return Map.of();
    }

    /** Nothing to restore. */
    @Override
    public void restoreScalars(Map<String, Double> scalars) {
    }

    @Override
    public String phase() {
        return name();
    }

    @Override
    public void close() {
        manager.close();
    }
}
