package ai.coopt.train;

import ai.coopt.engine.AdamWUpdate;
import ai.coopt.engine.NoGrad;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AdamW (decoupled weight decay, PyTorch's formulation) over a fixed, named list of parameters,
 * using the engine's fused update. Unlike DJL's optimiser it owns its moment estimates and step
 * count, so a checkpoint can save and restore them. Each step closes the gradient handles it opens.
 *
 * <p>Parameter groups, as PyTorch's optimisers have them, are two per-parameter properties here: whether the
 * parameter is decayed (biases and normalisation parameters usually are not) and whether its learning rate follows the
 * schedule or stays at the base rate (SimSiam's predictor). The learning rate and weight decay are set before each
 * step by the loop's schedules.
 */
public final class AdamW {
    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.999f;
    private static final float EPSILON = 1e-8f;

    private final Map<String, Parameter> parameters;
    private final Map<String, NDArray> means = new LinkedHashMap<>();
    private final Map<String, NDArray> variances = new LinkedHashMap<>();
    private final Set<String> notDecayed = new HashSet<>();
    private final Set<String> fixedLearningRate = new HashSet<>();
    private final float baseLearningRate;
    private float weightDecay;
    private float learningRate;
    private int steps;

    /** @param parameters the parameters to update, by unique name (the order is kept) */
    public AdamW(Map<String, Parameter> parameters, float learningRate, float weightDecay) {
        this.parameters = new LinkedHashMap<>(parameters);
        this.learningRate = learningRate;
        this.baseLearningRate = learningRate;
        this.weightDecay = weightDecay;
        for (Map.Entry<String, Parameter> e : this.parameters.entrySet()) {
            NDArray w = e.getValue().getArray();
            means.put(e.getKey(), AdamWUpdate.zeroMoment(w));
            variances.put(e.getKey(), AdamWUpdate.zeroMoment(w));
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

    public void setWeightDecay(float weightDecay) {
        this.weightDecay = weightDecay;
    }

    public float weightDecay() {
        return weightDecay;
    }

    /** The named parameters take no weight decay (unknown names are an error). */
    public void excludeFromDecay(Set<String> names) {
        notDecayed.addAll(known(names));
    }

    /** The named parameters keep the learning rate this optimiser was built with, whatever the schedule sets. */
    public void fixLearningRate(Set<String> names) {
        fixedLearningRate.addAll(known(names));
    }

    /** How many parameters are decayed, and how many keep a fixed learning rate (for the run's provenance). */
    public Map<String, Integer> groupSizes() {
        Map<String, Integer> out = new LinkedHashMap<>();
        out.put("decayed", parameters.size() - notDecayed.size());
        out.put("not_decayed", notDecayed.size());
        out.put("fixed_lr", fixedLearningRate.size());
        return out;
    }

    private Set<String> known(Set<String> names) {
        for (String n : names) {
            if (!parameters.containsKey(n)) {
                throw new IllegalArgumentException("no parameter named " + n);
            }
        }
        return names;
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
     *
     * <p>Every parameter's gradient is cleared, the others' too: the engine adds each backward pass to the last
     * gradient, and the fused update clears only the gradients it uses, so a gradient left on an idle parameter (DINO's
     * frozen last layer, SwAV's prototypes, a head idle before a hand-off) would be summed into its first update, with
     * a number of terms that a time budget makes depend on the wall clock, and would be lost by a resume.
     */
    public void step(Set<String> active) {
        steps++;
        // the step's parameters by group: 2 · (fixed learning rate) + (decayed)
        List<List<String>> groups = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                new ArrayList<>());
        try (NoGrad ignored = NoGrad.enter()) {
            for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
                String name = e.getKey();
                if (!active.contains(name)) {
                    // the step's gradient is dropped, as DINO's cancel_gradients_last_layer sets it to None
                    JniUtils.zeroGrad((PtNDArray) e.getValue().getArray());
                    continue;
                }
                boolean fixed = fixedLearningRate.contains(name);
                boolean decayed = !notDecayed.contains(name);
                groups.get((fixed ? 2 : 0) + (decayed ? 1 : 0)).add(name);
            }
            if (groups.stream().allMatch(List::isEmpty)) {
                return;
            }
            // the step number t for the bias corrections, one scalar for every group
            NDArray anyWeight = parameters.values().iterator().next().getArray();
            try (NDArray t = anyWeight.getManager().create((float) steps)) {
                for (int group = 0; group < groups.size(); group++) {
                    List<String> names = groups.get(group);
                    if (!names.isEmpty()) {
                        float lr = group >= 2 ? baseLearningRate : learningRate;
                        float decay = group % 2 == 1 ? weightDecay : 0f;
                        update(names, t, lr, decay);
                    }
                }
            }
        }
    }

    private void update(List<String> names, NDArray step, float lr, float decay) {
        List<NDArray> weights = new ArrayList<>(names.size());
        List<NDArray> grads = new ArrayList<>(names.size());
        List<NDArray> m = new ArrayList<>(names.size());
        List<NDArray> v = new ArrayList<>(names.size());
        try {
            for (String name : names) {
                NDArray weight = parameters.get(name).getArray();
                weights.add(weight);
                grads.add(weight.getGradient());
                m.add(means.get(name));
                v.add(variances.get(name));
            }
            AdamWUpdate.apply(weights, grads, m, v, step, lr, decay, BETA1, BETA2, EPSILON);
        } finally {
            grads.forEach(NDArray::close);
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
