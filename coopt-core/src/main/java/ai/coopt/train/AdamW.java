package ai.coopt.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AdamW (decoupled weight decay, PyTorch's formulation) over a fixed, named list of parameters,
 * using the engine's fused update. Unlike DJL's optimiser it owns its moment estimates and step
 * count, so a checkpoint can save and restore them. Each step closes the gradient handles it opens.
 */
public final class AdamW {
    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.999f;
    private static final float EPSILON = 1e-8f;

    private final Map<String, Parameter> parameters;
    private final Map<String, NDArray> means = new LinkedHashMap<>();
    private final Map<String, NDArray> variances = new LinkedHashMap<>();
    private final float weightDecay;
    private float learningRate;
    private int steps;

    /** @param parameters the parameters to update, by unique name (the order is kept) */
    public AdamW(Map<String, Parameter> parameters, float learningRate, float weightDecay) {
        this.parameters = new LinkedHashMap<>(parameters);
        this.learningRate = learningRate;
        this.weightDecay = weightDecay;
        for (Map.Entry<String, Parameter> e : this.parameters.entrySet()) {
            NDArray w = e.getValue().getArray();
            means.put(e.getKey(), w.zerosLike());
            variances.put(e.getKey(), w.zerosLike());
        }
    }

    /** Convenience for unnamed lists (benchmarks): names are the positions. */
    public AdamW(List<Parameter> parameters, float learningRate, float weightDecay) {
        this(indexed(parameters), learningRate, weightDecay);
    }

    private static Map<String, Parameter> indexed(List<Parameter> parameters) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (int i = 0; i < parameters.size(); i++) {
            out.put(Integer.toString(i), parameters.get(i));
        }
        return out;
    }

    public void setLearningRate(float learningRate) {
        this.learningRate = learningRate;
    }

    public float learningRate() {
        return learningRate;
    }

    /** Updates taken so far. */
    public int steps() {
        return steps;
    }

    /** Applies one update to every parameter from the gradients of the last backward pass. */
    public void step() {
        step(parameters.keySet());
    }

    /**
     * Applies one update to the parameters named in {@code active}; the others are left exactly as they are (no
     * weight decay, no move from their moment estimates, which are not updated either), as PyTorch leaves a parameter
     * whose gradient is None. The bias correction uses the run's step count for every parameter.
     */
    public void step(Set<String> active) {
        steps++;
        double c1 = 1.0 - Math.pow(BETA1, steps);
        double c2 = 1.0 - Math.pow(BETA2, steps);
        float biasCorrected = (float) (learningRate * Math.sqrt(c2) / c1);
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            if (!active.contains(e.getKey())) {
                continue;
            }
            NDArray weight = e.getValue().getArray();
            try (NDArray grad = weight.getGradient()) {
                weight.getNDArrayInternal().adamUpdate(
                        new NDList(weight, grad, means.get(e.getKey()), variances.get(e.getKey())),
                        new NDList(weight), learningRate, biasCorrected, weightDecay, 1f, -1f,
                        BETA1, BETA2, EPSILON, true, true);
            }
        }
    }

    /** The moment estimates by name ({@code m.NAME}, {@code v.NAME}): live arrays, for checkpoints. */
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        means.forEach((k, v) -> out.put("m." + k, v));
        variances.forEach((k, v) -> out.put("v." + k, v));
        return out;
    }

    /** Restores the step count after {@link #state()}'s arrays were overwritten from a checkpoint. */
    public void restoreSteps(int steps) {
        this.steps = steps;
    }
}
