package ai.coopt.engine;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.training.ParameterStore;

import java.util.List;

/**
 * A parameterless TorchScript module written by {@link ScriptModules}, with the one parameter store all its calls pass
 * (it reads nothing from it), so that a call on the training path allocates no store of its own.
 */
record ScriptModule(Model model, ParameterStore store) {
    ScriptModule(Model model) {
        this(model, new ParameterStore(model.getNDManager(), false));
    }

    /**
     * The module's one output for {@code inputs}, a new array in the first input's manager. The call runs as
     * "training", without DJL's guard that turns autograd off, so the engine's own state decides: inside a gradient
     * collector the operation is recorded like any other.
     */
    NDArray apply(NDArray... inputs) {
        NDArray out = forward(new NDList(inputs), true).singletonOrThrow();
        out.attach(inputs[0].getManager());
        return out;
    }

    /**
     * The module's output for engine values (lists, numbers: what an {@link NDList} cannot carry); {@code inputs} are
     * closed when it returns, the output is the caller's to close.
     */
    IValue run(List<IValue> inputs) {
        try {
            return IValueUtils.forward((PtSymbolBlock) model.getBlock(), inputs.toArray(IValue[]::new));
        } finally {
            inputs.forEach(IValue::close);
        }
    }

    /** The module's outputs for {@code inputs}, in the module's manager (the caller attaches or closes them). */
    NDList forward(NDList inputs, boolean training) {
        return model.getBlock().forward(store, inputs, training);
    }
}
