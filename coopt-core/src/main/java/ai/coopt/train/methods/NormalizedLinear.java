package ai.coopt.train.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A bias-free linear layer whose weight rows are scaled to unit norm on every forward pass: {@code y = x·(V/‖V‖)ᵀ},
 * row-wise. This is DINO's weight-normalised last layer with the norm fixed at 1 ({@code norm_last_layer}), written
 * out because DJL has no weight normalisation; the gradient reaches V through the normalisation.
 */
final class NormalizedLinear extends AbstractBlock {
    private static final float EPS = 1e-12f;
    private final long units;
    private final Parameter weight;

    NormalizedLinear(long units) {
        this.units = units;
        this.weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray v = store.getValue(weight, x.getDevice(), training);
        // the intermediates are made in the weight's (long-lived) manager: close their handles at once; the autograd
        // graph keeps what the backward pass needs
        try (NDArray norm = v.norm(new int[] {1}, true); NDArray safe = norm.maximum(EPS); NDArray unit = v.div(safe);
             NDArray transposed = unit.transpose()) {
            return new NDList(x.matMul(transposed));
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape in = inputs[0];
        return new Shape[] {in.slice(0, in.dimension() - 1).add(units)};
    }

    @Override
    public void prepare(Shape[] inputs) {
        Shape in = inputs[0];
        weight.setShape(new Shape(units, in.get(in.dimension() - 1)));
    }
}
