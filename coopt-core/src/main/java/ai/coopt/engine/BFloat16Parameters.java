package ai.coopt.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Serves a forward pass bfloat16 copies of the float32 weights it reads, made in the pass's own manager and recorded
 * by autograd, so the gradients land on the float32 weights (which the optimiser keeps, with its moments, in float32).
 * Normalisation parameters and running statistics are served as they are: batch and layer norm take bfloat16 input
 * with float32 parameters and keep their statistics in float32, as autocast does.
 */
public final class BFloat16Parameters extends ParameterStore {
    private final NDManager pass;
    private final Map<Parameter, NDArray> casts = new IdentityHashMap<>();

    /** @param pass the manager of the pass (a step's): it owns the copies */
    public BFloat16Parameters(NDManager pass) {
        super(pass, false);
        this.pass = pass;
    }

    /** A pass that reads its parameters from a store. */
    @FunctionalInterface
    public interface Pass {
        NDArray apply(ParameterStore store, NDArray input);
    }

    /**
     * {@code pass}'s output for {@code input} computed in bfloat16 with this store's copies: the input is cast on the
     * way in (made channels-last too when 4-D, {@link BFloat16#ofImages}), the output back to float32 on the way out
     * (both in the input's manager).
     */
    public static NDArray forward(NDArray input, Pass pass) {
        BFloat16Parameters store = new BFloat16Parameters(input.getManager());
        try (NDArray x = BFloat16.ofImages(input); NDArray y = pass.apply(store, x)) {
            return BFloat16.toFloat32(y);
        }
    }

    @Override
    public NDArray getValue(Parameter parameter, Device device, boolean training) {
        if (parameter == null) {
            return null; // an optional parameter a block does without (a bias), as the base store answers
        }
        NDArray value = parameter.getArray();
        if (!lowers(parameter)) {
            return value;
        }
        return casts.computeIfAbsent(parameter, p -> {
            NDArray copy = BFloat16.of(value);
            copy.attach(pass);
            return copy;
        });
    }

    /**
     * Whether a bf16 pass computes with this parameter in bfloat16: weights, biases and other tensors (a ViT's class
     * token) are; normalisation parameters (batch and layer norm's γ, β) and running statistics stay float32.
     */
    public static boolean lowers(Parameter parameter) {
        Parameter.Type type = parameter.getType();
        return type == Parameter.Type.WEIGHT || type == Parameter.Type.BIAS || type == Parameter.Type.OTHER;
    }
}
