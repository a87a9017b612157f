package ai.coopt.train.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.XavierInitializer;

import java.util.Map;

/**
 * A named head on top of the backbone (projector, predictor, transfer layer): a block initialised
 * in a given manager, with the parameter store its forward pass reads. Its parameters are named
 * {@code head.NAME.KEY}.
 */
final class Head {
    private final String name;
    private final Block block;
    private final ParameterStore store;

    private Head(String name, Block block, NDManager manager) {
        this.name = name;
        this.block = block;
        this.store = new ParameterStore(manager, false);
    }

    /** A head whose weights are drawn (Xavier, as the backbone's) from the engine's generator. */
    static Head create(String name, Block block, int inputDim, NDManager manager) {
        return create(name, block, inputDim, manager, new XavierInitializer());
    }

    /**
     * A head for rows of {@code inputDim} with the given weight initializer (biases and batch-norm
     * parameters take DJL's constant defaults). DJL infers the shapes without a forward pass; the
     * batch of 2 would keep batch norm valid even if it ran one.
     */
    static Head create(String name, Block block, int inputDim, NDManager manager, Initializer weights) {
        block.setInitializer(weights, Parameter.Type.WEIGHT);
        block.initialize(manager, DataType.FLOAT32, new Shape(2, inputDim));
        return new Head(name, block, manager);
    }

    /** Linear → batch norm → ReLU → Linear: the projection and prediction heads of BYOL and SimCLR. */
    static Block mlp(int hidden, int out) {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(hidden).build())
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(out).build());
    }

    /** Linear → ReLU → Linear, no batch norm: MoCo v2's head. */
    static Block mlpNoNorm(int hidden, int out) {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(hidden).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(out).build());
    }

    /**
     * SimSiam's projector: three Linear → batch norm layers, ReLU between them; the last batch norm has no affine
     * parameters (the paper's).
     */
    static Block simSiamProjector(int width) {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(width).optBias(false).build())
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(width).optBias(false).build())
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(width).optBias(false).build())
                .add(BatchNorm.builder().optCenter(false).optScale(false).build());
    }

    /**
     * DINO's head: Linear → GELU → Linear → GELU → Linear to the bottleneck, rows scaled to unit norm, then the
     * weight-normalised last layer ({@link NormalizedLinear}) to {@code out} prototypes.
     */
    static Block dino(int hidden, int bottleneck, int out) {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(hidden).build())
                .add(Activation.geluBlock())
                .add(Linear.builder().setUnits(hidden).build())
                .add(Activation.geluBlock())
                .add(Linear.builder().setUnits(bottleneck).build())
                .addSingleton(ai.coopt.train.Losses::l2Normalize)
                .add(new NormalizedLinear(out));
    }

    /** Bias-free linear prototypes (SwAV): their rows are kept at unit norm by the method. */
    static Block prototypes(int count) {
        return Linear.builder().setUnits(count).optBias(false).build();
    }

    /** One linear layer with bias: ReLA's transfer head. */
    static Block linear(int out) {
        return Linear.builder().setUnits(out).build();
    }

    String name() {
        return name;
    }

    Block block() {
        return block;
    }

    /** Outputs for a batch of rows; in training mode batch norm uses batch statistics and updates its running ones. */
    NDArray forward(NDArray x, boolean training) {
        return block.forward(store, new NDList(x), training).singletonOrThrow();
    }

    /** The parameters the optimiser updates, as {@code head.NAME.KEY}. */
    Map<String, Parameter> trainable() {
        return NamedParameters.trainable(prefix(), block);
    }

    /** The arrays that take no gradient (batch-norm running statistics), as {@code head.NAME.KEY}. */
    Map<String, NDArray> state() {
        return NamedParameters.fixed(prefix(), block);
    }

    String prefix() {
        return "head." + name + ".";
    }
}
