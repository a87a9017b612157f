package ai.coopt.engine;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;

/**
 * A parameterless TorchScript module written by {@link ScriptModules}, with the one parameter store all its calls pass
 * (it reads nothing from it), so that a call on the training path allocates no store of its own.
 */
record ScriptModule(Model model, ParameterStore store) {
    ScriptModule(Model model) {
        this(model, new ParameterStore(model.getNDManager(), false));
    }

    /**
     * The module's output for one tensor, a new array in {@code x}'s manager. The call runs as "training", without
     * DJL's guard that turns autograd off, so the engine's own state decides: inside a gradient collector the
     * operation is recorded like any other.
     */
    NDArray apply(NDArray x) {
        NDArray out = forward(new NDList(x), true).singletonOrThrow();
        out.attach(x.getManager());
        return out;
    }

    /** The module's outputs for {@code inputs}, in the module's manager (the caller attaches or closes them). */
    NDList forward(NDList inputs, boolean training) {
        return model.getBlock().forward(store, inputs, training);
    }
}
