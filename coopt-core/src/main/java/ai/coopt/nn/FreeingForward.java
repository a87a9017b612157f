package ai.coopt.nn;

import ai.coopt.engine.BFloat16Parameters;
import ai.coopt.engine.FusedActivations;
import ai.coopt.engine.Layouts;
import ai.coopt.engine.Precision;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
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
 * sum and gate), except in three places that compute the same values: ReLU6 and SiLU run as the engine's fused
 * operations ({@link FusedActivations}); a max-pool that follows a ReLU runs before it ({@link #poolThenRelu}); and
 * the global average pool takes its mean over the channels-last rows ({@link #globalAveragePool}).
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
            return sequence(block.getChildren().values(), store, input, training);
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
                case "globalAvgPool2d":
                    if (input.getShape().dimension() == 4) {
                        return globalAveragePool(input);
                    }
                    break;
                default:
                    break;
            }
        }
        return block.forward(store, new NDList(input), training).singletonOrThrow();
    }

    /** {@code blocks} applied one after the other, each intermediate closed once the next block has consumed it. */
    private static NDArray sequence(List<Block> blocks, ParameterStore store, NDArray input, boolean training) {
        NDArray current = input;
        for (int i = 0; i < blocks.size(); i++) {
            Block block = blocks.get(i);
            NDArray next;
            if (i + 1 < blocks.size() && isMaxPool(blocks.get(i + 1)) && endsInRelu(block)) {
                next = poolThenRelu(block, blocks.get(++i), store, current, training);
            } else {
                next = forward(block, store, current, training);
            }
            release(current, input, next);
            current = next;
        }
        return current;
    }

    /**
     * {@code pool(relu(block(x)))} computed as {@code relu(pool(block'(x)))}, where {@code block'} is {@code block}
     * without its final ReLU: the ReLU then runs, forward and backward, on the pooled map (a quarter of the pixels
     * after a 2×2 pool). A maximum commutes with a non-decreasing function, so the values are the same bits; so are
     * the gradients: where a window's maximum is positive, both orders send the gradient to its first maximum, and
     * where it is not, the ReLU's backward pass zeroes it in both.
     */
    private static NDArray poolThenRelu(Block block, Block pool, ParameterStore store, NDArray input,
                                        boolean training) {
        List<Block> children = block instanceof SequentialBlock ? block.getChildren().values() : List.of(block);
        NDArray beforeRelu = sequence(children.subList(0, children.size() - 1), store, input, training);
        NDArray pooled = forward(pool, store, beforeRelu, training);
        release(beforeRelu, input, pooled);
        NDArray out = Activation.relu(pooled);
        release(pooled, input, out);
        return out;
    }

    /**
     * DJL's global average pool (the mean over height and width, N×C×1×1), taken over the rows of the channels-last
     * input's N×(H·W)×C view. The values are the same; the gradient is not the same array. DJL's mean over axes 2 and 3
     * hands back an N×C×H×W gradient in NCHW order, and the layer before it (a ReLU, ReLU6 or product) then combines
     * it with its own channels-last arrays element by element across two memory orders, which the engine does
     * without vectors: convnet-s's last ReLU's backward pass (128×128×8×8, bfloat16) took 5.1 ms a step, and takes
     * 0.3 now. Over this view the gradient comes back channels-last, like every other array in the pass.
     */
    private static NDArray globalAveragePool(NDArray x) {
        long[] s = x.getShape().getShape();
        try (NDArray nhwc = x.transpose(0, 2, 3, 1);
             NDArray rows = nhwc.reshape(s[0], s[2] * s[3], s[1]);
             NDArray mean = rows.mean(new int[] {1}, true)) {
            return mean.reshape(s[0], s[1], 1, 1);
        }
    }

    /** A ReLU, or a sequence whose last block is one. */
    private static boolean endsInRelu(Block block) {
        if (block instanceof SequentialBlock) {
            List<Block> children = block.getChildren().values();
            return !children.isEmpty() && isNamed(children.get(children.size() - 1), "ReLU");
        }
        return isNamed(block, "ReLU");
    }

    private static boolean isMaxPool(Block block) {
        return isNamed(block, "maxPool2d");
    }

    /** A parameterless lambda block of DJL's named {@code name} ({@code Activation.reluBlock}, {@code Pool}'s). */
    private static boolean isNamed(Block block, String name) {
        return block instanceof LambdaBlock lambda && block.getParameters().isEmpty()
                && lambda.getName().equals(name);
    }

    /** Closes {@code array} unless it is the pass's input or the result that replaces it. */
    private static void release(NDArray array, NDArray input, NDArray result) {
        if (array != input && array != result) {
            array.close();
        }
    }
}
