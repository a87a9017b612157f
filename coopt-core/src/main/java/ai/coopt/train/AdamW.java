package ai.coopt.train;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;

import java.util.List;

/**
 * AdamW (decoupled weight decay) over a fixed list of parameters, using the engine's fused update.
 * Each step closes the gradient handles it opens, so nothing accumulates in native memory.
 */
public final class AdamW {
    private final Optimizer optimizer;
    private final List<Parameter> parameters;

    public AdamW(List<Parameter> parameters, float learningRate, float weightDecay) {
        this.parameters = parameters;
        this.optimizer = Optimizer.adamW()
                .optLearningRateTracker(Tracker.fixed(learningRate))
                .optWeightDecays(weightDecay)
                .build();
    }

    /** Applies one update from the gradients accumulated by the last backward pass, then zeroes them. */
    public void step() {
        for (Parameter p : parameters) {
            NDArray weight = p.getArray();
            try (NDArray grad = weight.getGradient()) {
                optimizer.update(p.getId(), weight, grad);
            }
        }
    }
}
