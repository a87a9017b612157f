package ai.coopt.nn;

import ai.coopt.engine.BFloat16;
import ai.coopt.engine.BFloat16Parameters;
import ai.coopt.engine.FusedConvolution;
import ai.coopt.engine.FusedLinear;
import ai.coopt.engine.Layouts;
import ai.coopt.engine.NoGrad;
import ai.coopt.engine.Precision;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network's weights prepared for inference only: computes what {@link Network#forward Network.forward(x, false)}
 * computes (batch norm with its running statistics), to float32 rounding, with less work per batch.
 * <ul>
 *   <li>Each convolution followed by batch norm becomes one convolution with a bias: the normalisation is folded
 *       into its weights and bias in float64, then rounded to float32, which removes one pass over every
 *       activation.</li>
 *   <li>Convolution weights are kept channels-last (NHWC strides), so the engine's oneDNN convolutions read and
 *       write channels-last activations directly instead of reordering them to and from NCHW for every layer;
 *       the rest of the network follows that layout.</li>
 *   <li>A convolution followed by ReLU, ReLU6 or SiLU runs as one oneDNN primitive with the activation fused in
 *       ({@link FusedConvolution}), on CPUs where oneDNN is on; so does a residual sum and the ReLU after it, fused
 *       into the convolution that ends the block's main branch; and, in float32, a linear layer with the GELU after
 *       it where one follows ({@link FusedLinear}). Elsewhere ReLU6 is one clamp instead of a
 *       ReLU and a minimum, and a residual sum adds the shortcut in place. A squeeze-excitation gate frees its
 *       scale once applied.</li>
 *   <li>A block with no form of its own here (LayerNorm, self-attention, a ViT's patch embedding) runs its own
 *       forward pass in inference mode, reading copies of its parameters instead of the network's.</li>
 *   <li>Every intermediate activation is freed as soon as the next layer has read it, so a batch holds two or
 *       three activations at a time instead of all of them, and freed blocks are reused while still in cache.</li>
 *   <li>Autograd is off in the calling thread for the whole pass ({@link NoGrad}).</li>
 * </ul>
 * It is built from the network's weights at one moment and owns copies of them: it does not follow later
 * training, and it never changes the network or what is saved from it.
 */
public final class InferenceNetwork implements AutoCloseable {
    private final String arch;
    private final int featureDim;
    private final NDManager manager;
    private final Op body;
    private final Precision precision;
    private final int fusedOps;

    private InferenceNetwork(String arch, int featureDim, NDManager manager, Op body, Precision precision,
                             int fusedOps) {
        this.arch = arch;
        this.featureDim = featureDim;
        this.manager = manager;
        this.body = body;
        this.precision = precision;
        this.fusedOps = fusedOps;
    }

    /** Folds {@code net}'s current weights (channels-last convolutions). */
    public static InferenceNetwork of(Network net) {
        return of(net, true);
    }

    /** Folds {@code net}'s current weights; {@code channelsLast} false keeps the convolutions' NCHW layout. */
    public static InferenceNetwork of(Network net, boolean channelsLast) {
        return of(net, channelsLast, Precision.FP32);
    }

    /**
     * Folds {@code net}'s current weights (channels-last convolutions) to compute in {@code precision}: in bf16 the
     * folded weights are rounded to bfloat16 once (folding itself stays float64), each batch is cast (and made
     * channels-last, {@link BFloat16#ofImages}) on the way in and its features back to float32 on the way out.
     */
    public static InferenceNetwork of(Network net, Precision precision) {
        return of(net, true, precision);
    }

    private static InferenceNetwork of(Network net, boolean channelsLast, Precision precision) {
        NDManager manager = NDManager.newBaseManager(net.device());
        try {
            Compiler compiler = new Compiler(manager, channelsLast, precision);
            Op body = compiler.compile(net.block());
            return new InferenceNetwork(net.arch(), net.featureDim(), manager, body, precision,
                    compiler.fusedOps);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    public String arch() { return arch; }
    public int featureDim() { return featureDim; }
    public Precision precision() { return precision; }
    /**
     * How many layers run with the operation after them fused in: a convolution's activation or a residual sum
     * ({@link FusedConvolution}), a linear layer's GELU ({@link FusedLinear}).
     */
    int fusedOps() { return fusedOps; }
    /** Owns the folded weights; a sub-manager of it is a good home for a batch. */
    public NDManager manager() { return manager; }

    /**
     * Features of a batch of images; the result lives in {@code images}' manager, intermediates are freed on the
     * way. {@code images} itself is left open.
     */
    public NDArray forward(NDArray images) {
        try (NoGrad ignored = NoGrad.enter()) {
            if (precision == Precision.FP32) {
                return body.apply(images);
            }
            try (NDArray x = BFloat16.ofImages(images); NDArray features = body.applyConsuming(x)) {
                return BFloat16.toFloat32(features);
            }
        }
    }

    @Override
    public void close() {
        manager.close();
    }

    /** One step of the pass: reads its input, leaves it open, returns a new array. */
    private interface Op {
        NDArray apply(NDArray x);

        /**
         * As {@link #apply}, where the caller reads {@code x} no more: its values may be overwritten (the result
         * may share its memory), and the caller still closes it.
         */
        default NDArray applyConsuming(NDArray x) {
            return apply(x);
        }
    }

    /** Steps in order; each intermediate is closed once the next step has read it. */
    private record Sequence(List<Op> ops) implements Op {
        @Override
        public NDArray apply(NDArray x) {
            return run(x, false);
        }

        @Override
        public NDArray applyConsuming(NDArray x) {
            return run(x, true);
        }

        /** The steps; the first may overwrite {@code x} where {@code consume} says so, later ones their input. */
        private NDArray run(NDArray x, boolean consume) {
            NDArray current = x;
            for (Op op : ops) {
                NDArray next = consume || current != x ? op.applyConsuming(current) : op.apply(current);
                if (current != x && next != current) {
                    current.close();
                }
                current = next;
            }
            return current;
        }
    }

    /** {@code main(x) + shortcut(x)}, the sum written into main's output; a null shortcut is the identity. */
    private record Residual(Op main, Op shortcut) implements Op {
        /**
         * This sum followed by {@code next}, as a {@link ResidualConvolution} where {@code next} is a ReLU, the main
         * branch ends with a convolution and the engine can fuse the sum and the ReLU into it, else null.
         */
        ResidualConvolution fusedWith(Op next, NDManager manager) {
            Op prefix = null;
            Op end = main;
            if (main instanceof Sequence sequence) {
                List<Op> ops = sequence.ops();
                end = ops.get(ops.size() - 1);
                prefix = ops.size() == 2 ? ops.get(0) : new Sequence(List.copyOf(ops.subList(0, ops.size() - 1)));
            }
            if (next != RELU || !(end instanceof Convolution last) || last.activation() != null
                    || !FusedConvolution.available(last.weight().getDevice())) {
                return null;
            }
            return new ResidualConvolution(prefix, last, last.biasOrZeros(manager), shortcut);
        }

        @Override
        public NDArray apply(NDArray x) {
            NDArray out = main.apply(x);
            NDArray skip = shortcut == null ? x : shortcut.apply(x);
            out.addi(skip);
            if (skip != x) {
                skip.close();
            }
            return out;
        }
    }

    /** A convolution, with the activation after it fused in where {@code activation} is not null. */
    private record Convolution(NDArray weight, NDArray bias, Shape stride, Shape padding, Shape dilation, int groups,
                               FusedConvolution.Activation activation) implements Op {
        @Override
        public NDArray apply(NDArray x) {
            if (activation != null) {
                return FusedConvolution.apply(x, weight, bias, stride, padding, dilation, groups, activation);
            }
            return x.getNDArrayInternal().convolution(x, weight, bias, stride, padding, dilation, groups)
                    .singletonOrThrow();
        }

        /** This convolution followed by {@code next}, as one op where the engine can fuse them, else null. */
        Convolution fusedWith(Op next, NDManager manager) {
            FusedConvolution.Activation fused = fusable(next);
            if (activation != null || fused == null || !FusedConvolution.available(weight.getDevice())) {
                return null;
            }
            return new Convolution(weight, biasOrZeros(manager), stride, padding, dilation, groups, fused);
        }

        /** The fused operations take a bias: a convolution without one gets zeros. */
        NDArray biasOrZeros(NDManager manager) {
            return bias != null ? bias : manager.zeros(new Shape(weight.getShape().get(0)), weight.getDataType());
        }
    }

    /** The activation {@code op} is, where oneDNN can fuse it into a convolution, else null. */
    private static FusedConvolution.Activation fusable(Op op) {
        return op == RELU ? FusedConvolution.Activation.RELU
                : op == RELU6 ? FusedConvolution.Activation.RELU6
                : op == SILU ? FusedConvolution.Activation.SILU : null;
    }

    /**
     * A residual block followed by a ReLU, with the sum and the ReLU fused into the convolution that ends the main
     * branch: {@code relu(last(prefix(x)) + shortcut(x))}. A null prefix or shortcut is the identity.
     */
    private record ResidualConvolution(Op prefix, Convolution last, NDArray bias, Op shortcut) implements Op {
        @Override
        public NDArray apply(NDArray x) {
            return apply(x, false);
        }

        /** Where the shortcut is the identity, the sum is written into {@code x} itself (see below). */
        @Override
        public NDArray applyConsuming(NDArray x) {
            return apply(x, true);
        }

        /**
         * The fused convolution writes the sum into the shortcut's array: a shortcut convolution's output, or
         * {@code x} where the shortcut is the identity and {@code consume} allows it (with no prefix, {@code x} is
         * also the convolution's input, which cannot be its output). Otherwise into a copy of {@code x}.
         */
        private NDArray apply(NDArray x, boolean consume) {
            NDArray h = prefix == null ? x : prefix.apply(x);
            // x may take the sum only if the caller is done with it and it is not also the convolution's input
            boolean xTakesTheSum = consume && h != x;
            NDArray skip = null;
            try {
                skip = shortcut == null ? x : shortcut.apply(x);
                if (skip == x && !xTakesTheSum) {
                    skip = x.duplicate();
                }
                return FusedConvolution.applyWithSumAndReluInto(skip, h, last.weight(), bias, last.stride(),
                        last.padding(), last.dilation(), last.groups());
            } finally {
                if (h != x) {
                    h.close();
                }
                if (skip != null && skip != x) {
                    skip.close();
                }
            }
        }
    }

    /**
     * A linear layer: oneDNN's primitive where {@code fused} is not null (with the GELU after it if so), else DJL's.
     */
    private record FullyConnected(NDArray weight, NDArray bias, FusedLinear.Activation fused) implements Op {
        @Override
        public NDArray apply(NDArray x) {
            if (fused != null) {
                return FusedLinear.apply(x, weight, bias, fused);
            }
            return Layers.onRows(x, rows -> rows.getNDArrayInternal().linear(rows, weight, bias).singletonOrThrow());
        }

        /** This layer followed by {@code next}, as one op where the engine can fuse them, else null. */
        FullyConnected fusedWith(Op next) {
            return fused == FusedLinear.Activation.NONE && next == GELU
                    ? new FullyConnected(weight, bias, FusedLinear.Activation.GELU) : null;
        }
    }

    private static final Op RELU = x -> x.getNDArrayInternal().relu();
    private static final Op RELU6 = x -> x.clip(0f, 6f);
    private static final Op GELU = x -> x.getNDArrayInternal().gelu();

    private static final Op SILU = Layers::silu;

    /** {@code x · scale(x)}, a squeeze-excitation; the scale is freed once applied. */
    private record Gate(Op scale) implements Op {
        @Override
        public NDArray apply(NDArray x) {
            try (NDArray s = scale.apply(x)) {
                return x.mul(s);
            }
        }
    }

    /**
     * A block run as DJL runs it, in inference mode: one without parameters (pooling, flattening), or one with no
     * special form whose {@code store} gives it copies of its parameters ({@link CopiedParameters}).
     */
    private record OwnForward(Block block, ParameterStore store) implements Op {
        @Override
        public NDArray apply(NDArray x) {
            return block.forward(store, new NDList(x), false).singletonOrThrow();
        }
    }

    /**
     * Serves the blocks run by their own forward pass the copies the compiler made of their parameters; asking for
     * any other parameter is a bug (it would read the live network).
     */
    private static final class CopiedParameters extends ParameterStore {
        private final Map<Parameter, NDArray> copies = new IdentityHashMap<>();

        CopiedParameters(NDManager manager) {
            super(manager, false);
        }

        @Override
        public NDArray getValue(Parameter parameter, Device device, boolean training) {
            NDArray copy = copies.get(parameter);
            if (copy == null) {
                throw new IllegalStateException("parameter " + parameter.getName() + " was not copied for inference");
            }
            return copy;
        }
    }

    /** Turns a block tree made by {@link Architectures} into {@link Op}s with weights copied into one manager. */
    private static final class Compiler {
        private final NDManager manager;
        private final boolean channelsLast;
        private final Precision precision;
        private final CopiedParameters store;
        private int fusedOps;

        Compiler(NDManager manager, boolean channelsLast, Precision precision) {
            this.manager = manager;
            this.channelsLast = channelsLast;
            this.precision = precision;
            this.store = new CopiedParameters(manager);
        }

        /** A weight in the precision the network computes in (the float32 array is closed when it is cast). */
        private NDArray lowered(NDArray a) {
            if (a == null || precision == Precision.FP32) {
                return a;
            }
            try (a) {
                return BFloat16.of(a);
            }
        }

        Op compile(Block block) {
            if (block instanceof SequentialBlock) {
                List<Op> ops = new ArrayList<>();
                List<Block> children = block.getChildren().values();
                for (int i = 0; i < children.size(); i++) {
                    Block child = children.get(i);
                    if (child instanceof Conv2d conv && i + 1 < children.size()
                            && children.get(i + 1) instanceof BatchNorm bn) {
                        ops.add(foldedConvolution(conv, bn));
                        i++;
                    } else {
                        ops.add(compile(child));
                    }
                    int last = ops.size() - 1;
                    Op fused = last < 1 ? null
                            : ops.get(last - 1) instanceof Convolution conv ? conv.fusedWith(ops.get(last), manager)
                            : ops.get(last - 1) instanceof Residual sum ? sum.fusedWith(ops.get(last), manager)
                            : ops.get(last - 1) instanceof FullyConnected linear ? linear.fusedWith(ops.get(last))
                            : null;
                    if (fused != null) {
                        ops.remove(last);
                        ops.set(last - 1, fused);
                        fusedOps++;
                    }
                }
                return ops.size() == 1 ? ops.get(0) : new Sequence(List.copyOf(ops));
            }
            if (block instanceof ParallelBlock && Layers.isResidual(block)) {
                List<Block> branches = block.getChildren().values();
                if (branches.size() != 2) {
                    throw new IllegalStateException("a residual sum has " + branches.size() + " branches");
                }
                Block shortcut = branches.get(1);
                return new Residual(compile(branches.get(0)), shortcut instanceof LambdaBlock ? null : compile(shortcut));
            }
            if (block instanceof ParallelBlock && Layers.isGate(block)) {
                return new Gate(compile(block.getChildren().values().get(0)));
            }
            if (block instanceof Conv2d conv) {
                return foldedConvolution(conv, null);
            }
            if (block instanceof Linear) {
                NDArray bias = block.getParameters().contains("bias") ? copy(block.getParameters().get("bias")) : null;
                NDArray weight = lowered(copy(block.getParameters().get("weight")));
                boolean fusable = bias != null && FusedLinear.pays(weight);
                return new FullyConnected(weight, lowered(bias), fusable ? FusedLinear.Activation.NONE : null);
            }
            if (block instanceof LambdaBlock lambda && block.getParameters().isEmpty()) {
                return switch (lambda.getName()) {
                    case "ReLU" -> RELU;
                    case "ReLU6" -> RELU6;
                    case "SiLU" -> SILU;
                    case "GELU" -> GELU;
                    default -> new OwnForward(block, store);
                };
            }
            for (Parameter p : block.getParameters().values()) {
                NDArray copy = copy(p);
                if (channelsLast && copy.getShape().dimension() == 4) {
                    try (NDArray nchw = copy) {
                        copy = Layouts.channelsLast(nchw);
                    }
                }
                // the training pass's rule: layer norm keeps float32 γ and β (PyTorch's mixed form)
                store.copies.put(p, BFloat16Parameters.lowers(p) ? lowered(copy) : copy);
            }
            return new OwnForward(block, store);
        }

        private NDArray copy(Parameter p) {
            NDArray a = p.getArray();
            return manager.create(a.toFloatArray(), a.getShape());
        }

        /**
         * {@code conv} with {@code bn} (or null) folded in: per output channel o, with
         * s = γ / sqrt(running variance + ε), the weights W[o] · s and the bias β + (b − running mean) · s,
         * computed in float64 and rounded once.
         */
        private Op foldedConvolution(Conv2d conv, BatchNorm bn) {
            float[] w = conv.getParameters().get("weight").getArray().toFloatArray();
            Shape shape = conv.getParameters().get("weight").getArray().getShape();
            int out = (int) shape.get(0);
            int perOut = w.length / out;
            float[] b = conv.isIncludeBias() ? conv.getParameters().get("bias").getArray().toFloatArray() : new float[out];
            float[] weight = w;
            float[] bias = b;
            if (bn != null) {
                float[] gamma = values(bn, "gamma");
                float[] beta = values(bn, "beta");
                float[] mean = values(bn, "runningMean");
                float[] var = values(bn, "runningVar");
                weight = new float[w.length];
                bias = new float[out];
                for (int o = 0; o < out; o++) {
                    double s = gamma[o] / Math.sqrt((double) var[o] + Layers.BN_EPSILON);
                    for (int j = o * perOut; j < (o + 1) * perOut; j++) {
                        weight[j] = (float) (w[j] * s);
                    }
                    bias[o] = (float) (beta[o] + ((double) b[o] - mean[o]) * s);
                }
            }
            NDArray weightArray = manager.create(weight, shape);
            if (channelsLast) {
                try (NDArray nchw = weightArray) {
                    weightArray = Layouts.channelsLast(nchw);
                }
            }
            NDArray biasArray = bn == null && !conv.isIncludeBias() ? null : manager.create(bias);
            return new Convolution(lowered(weightArray), lowered(biasArray), conv.getStride(), conv.getPadding(),
                    conv.getDilation(), conv.getGroups(), null);
        }

        private static float[] values(BatchNorm bn, String name) {
            return bn.getParameters().get(name).getArray().toFloatArray();
        }
    }
}
