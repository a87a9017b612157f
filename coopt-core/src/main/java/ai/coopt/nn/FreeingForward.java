package ai.coopt.nn;

import ai.coopt.engine.BFloat16Parameters;
import ai.coopt.engine.FusedActivations;
import ai.coopt.engine.Layouts;
import ai.coopt.engine.Precision;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;

import java.util.List;

/**
 * A pass through an architecture's block tree that lets go of each layer's output as soon as the next layer has
 * consumed it.
 *
 * <p>DJL's {@code SequentialBlock} leaves every output in the pass's manager until that manager closes, at the end of
 * a training step. Autograd keeps what the backward pass needs on its own, so the outputs it does not need (a batch
 * norm's before its ReLU, a residual branch's before the sum, the ReLU inside a ReLU6, every layer of a pass without
 * a gradient) stayed allocated for nothing. Closing an array here releases DJL's handle only: a tensor the graph
 * saved lives on in the graph until the backward pass frees it.
 *
 * <p>The operations, their operands and their order are those of DJL's own blocks (sequence, {@link Layers}' residual
 * sum and gate), except ReLU6 and SiLU, which run as the engine's fused operations ({@link FusedActivations}).
 */
public final class FreeingForward {
    private FreeingForward() {}

    /**
     * {@code block}'s float32 output for float32 {@code input}, computed in {@code precision}: in bf16 on per-pass
     * bfloat16 copies of the weights ({@link BFloat16Parameters}, which then serves them instead of {@code store}).
     * N×C×H×W images are made channels-last once on the way in (in bf16 by the cast itself), as the convolution
     * weights are ({@link Layouts}): given NCHW input, the first convolution made its own channels-last copy twice a
     * step, in the forward pass and again for its weight gradient. The values are the same either way.
     */
    public static NDArray forward(Block block, ParameterStore store, NDArray input, boolean training,
                                  Precision precision) {
        if (precision == Precision.BF16) {
            return BFloat16Parameters.forward(input, (copies, x) -> forward(block, copies, x, training));
        }
        if (!Layouts.copiesToChannelsLast(input)) {
            return forward(block, store, input, training);
        }
        NDArray x = Layouts.channelsLast(input);
        NDArray out = forward(block, store, x, training);
        release(x, input, out);
        return out;
    }

    /**
     * {@code block}'s output for {@code input}, with the parameters {@code store} serves. Neither the input nor the
     * output is closed; everything computed in between is.
     */
    public static NDArray forward(Block block, ParameterStore store, NDArray input, boolean training) {
        if (block instanceof SequentialBlock) {
            NDArray current = input;
            for (Block child : block.getChildren().values()) {
                NDArray next = forward(child, store, current, training);
                release(current, input, next);
                current = next;
            }
            return current;
        }
        if (block instanceof ParallelBlock && (Layers.isResidual(block) || Layers.isGate(block))) {
            List<Block> branches = block.getChildren().values();
            if (branches.size() != 2) {
                throw new IllegalStateException("a residual sum or gate has " + branches.size() + " branches");
            }
            NDArray first = forward(branches.get(0), store, input, training);
            NDArray second = forward(branches.get(1), store, input, training);
            // Layers.residual sums the branches in order; Layers.gate scales the identity by the first branch
            NDArray out = Layers.isResidual(block) ? first.add(second) : second.mul(first);
            release(first, input, out);
            release(second, input, out);
            return out;
        }
        if (block instanceof LambdaBlock lambda && block.getParameters().isEmpty()) {
            switch (lambda.getName()) {
                case "ReLU6":
                    return FusedActivations.relu6(input);
                case "SiLU":
                    return FusedActivations.silu(input);
                default:
                    break;
            }
        }
        return block.forward(store, new NDList(input), training).singletonOrThrow();
    }

    /** Closes {@code array} unless it is the pass's input or the result that replaces it. */
    private static void release(NDArray array, NDArray input, NDArray result) {
        if (array != input && array != result) {
            array.close();
        }
    }
}
