package ai.coopt.nn;

import ai.coopt.engine.BFloat16;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.UnaryOperator;

/**
 * Building blocks shared by the architectures: convolution + batch norm (+ activation), residual sums and
 * squeeze-excitation gates.
 */
final class Layers {
    /** Batch norm's ε (DJL's default, written out because {@link InferenceNetwork} folds it into the convolutions). */
    static final float BN_EPSILON = 1e-5f;

    /**
     * The blocks {@link #residual} made: {@link InferenceNetwork} recognises a residual sum by identity here (a DJL
     * {@code ParallelBlock} does not say how it joins its branches).
     */
    private static final Set<Block> RESIDUALS = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
    /** The blocks {@link #gate} made, recognised by identity like {@link #RESIDUALS}. */
    private static final Set<Block> GATES = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    private Layers() {}

    /**
     * {@code f} applied to the rows of {@code x} (its leading axes flattened into one), the result given back those
     * axes. It is how a linear layer meets a sequence of tokens: libtorch's C++ {@code linear}, which DJL calls, adds
     * the bias inside the matrix product ({@code addmm}) only for a matrix, and in a pass of its own otherwise.
     * Intermediates are closed here (autograd keeps what the backward pass needs).
     */
    static NDArray onRows(NDArray x, UnaryOperator<NDArray> f) {
        long[] s = x.getShape().getShape();
        if (s.length <= 2) {
            return f.apply(x);
        }
        long[] out = s.clone();
        try (NDArray rows = x.reshape(-1, s[s.length - 1]); NDArray y = f.apply(rows)) {
            out[s.length - 1] = y.getShape().get(1);
            return y.reshape(new Shape(out));
        }
    }

    /** A bias-free k×k convolution with "same" padding for odd k. */
    static Block conv(int filters, int kernel, int stride, int groups) {
        return new Conv2d(ai.djl.nn.convolutional.Conv2d.builder()
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(kernel / 2, kernel / 2))
                .setFilters(filters)
                .optGroups(groups)
                .optBias(false));
    }

    /**
     * DJL's 2-D convolution, except in two cases of a training pass on a CPU.
     *
     * <p>A pointwise layer (1×1, one group, no padding or bias) over at most {@value #PRODUCT_ROWS} output pixels
     * (images × height × width) runs as the matrix product it is, on the pixels' rows of the channels-last input
     * ({@link #pointwiseProduct}). oneDNN's convolution reorders the weights into blocked layouts on every call, for
     * the forward pass and for the input's gradient, which costs as much per call whatever the number of pixels, and
     * over few pixels outweighs the product itself; the matrix product takes the weights as they are. Measured on
     * Zen 4 (batch 128, 32×32 input, medians of 3 rounds): resnet50, whose bottleneck layers run on 4×4 maps and
     * smaller, trained 1.28× faster in bf16 and 1.22× in fp32; on larger maps (resnet-s's strided shortcuts,
     * efficientnet-b0's early layers) the convolution was as fast or faster, so it keeps them (BENCHMARKS.md,
     * "Precision", seventh sitting).
     *
     * <p>In float32 the product is the engine's MKL sgemm, not oneDNN (bfloat16 products are oneDNN's), and a
     * stride-1 layer is one only up to {@value #FP32_PRODUCT_ROWS} pixels. Each layer's training pass timed both ways,
     * alternated ({@code scripts/PointwiseBench.java}; Zen 4, one thread, batch 128): at 2,048 pixels the convolution
     * was 1–19% faster in float32 on eight stride-1 layers of mobilenetv2's and resnet50's, where in bfloat16 the
     * product was 1–12% faster; on the strided layers and at 512 pixels the product was faster in both precisions
     * (BENCHMARKS.md, "Precision", ninth sitting).
     *
     * <p>In a bfloat16 pass, the depthwise convolutions whose backward pass oneDNN has no depthwise bfloat16 kernel
     * for: one with a stride above 1 (the input's gradient) or a kernel above 3×3 (the weights' gradient). oneDNN runs
     * those on its general kernels, 10 to 100 times slower than its float32 depthwise ones (efficientnet-b0, batch 128,
     * Zen 4: a 5×5 stride-2 layer's input gradient took 471 ms in bfloat16 and 14 ms in float32), so they compute in
     * float32 between two casts, as autocast keeps some operations in float32.
     *
     * <p>Named as DJL's class, so that a network's parameter names, and the weights' hashes made from them, stay what
     * they were.
     */
    static final class Conv2d extends ai.djl.nn.convolutional.Conv2d {
        /** The most output pixels (images × height × width) a pointwise layer computes as a matrix product. */
        static final long PRODUCT_ROWS = 2048;
        /** The most output pixels a stride-1 pointwise layer computes as a product in float32. */
        static final long FP32_PRODUCT_ROWS = 512;

        Conv2d(Builder builder) {
            super(builder);
        }

        @Override
        protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            NDArray x = inputs.singletonOrThrow();
            if (!training || x.getDevice().isGpu()) {
                return super.forwardInternal(store, inputs, training, params);
            }
            boolean bf16 = BFloat16.isBFloat16(x);
            if (asProduct(x.getShape(), bf16)) {
                return new NDList(pointwiseProduct(x, store.getValue(weight, x.getDevice(), true)));
            }
            if (!bf16 || !slowDepthwiseInBFloat16()) {
                return super.forwardInternal(store, inputs, training, params);
            }
            // the cast hands back a float32 parameter as it is (a new handle on the same values)
            try (NDArray wideX = BFloat16.toFloat32(x);
                 NDArray wideW = BFloat16.toFloat32(store.getValue(weight, x.getDevice(), true));
                 NDArray wideB = includeBias ? BFloat16.toFloat32(store.getValue(bias, x.getDevice(), true)) : null;
                 NDArray y = conv2d(wideX, wideW, wideB, stride, padding, dilation, groups).singletonOrThrow()) {
                return new NDList(BFloat16.of(y));
            }
        }

        /**
         * A pointwise layer whose output for an N×C×H×W input has at most {@link #PRODUCT_ROWS} pixels; in float32
         * ({@code bf16} false) a stride-1 one at most {@link #FP32_PRODUCT_ROWS}.
         */
        boolean asProduct(Shape input, boolean bf16) {
            boolean pointwise = groups == 1 && !includeBias && kernelShape.get(0) == 1 && kernelShape.get(1) == 1
                    && padding.get(0) == 0 && padding.get(1) == 0;
            if (!pointwise || input.dimension() != 4) {
                return false;
            }
            boolean strided = stride.get(0) > 1 || stride.get(1) > 1;
            long pixels = input.get(0) * ((input.get(2) - 1) / stride.get(0) + 1)
                    * ((input.get(3) - 1) / stride.get(1) + 1);
            return pixels <= (bf16 || strided ? PRODUCT_ROWS : FP32_PRODUCT_ROWS);
        }

        /**
         * The pointwise convolution of {@code x} (N×C×H×W, channels-last) by {@code w} (O×C×1×1) as one matrix
         * product: {@link #onRows} of the input's N×H×W×C view (every stride-th pixel of it) times the weights'
         * transpose, the N×H×W×O result viewed back as N×O×H×W, channels-last. The weight is flattened through its
         * own O×1×1×C view, so that its gradient comes back with the weight's strides (the optimiser's fused update
         * requires it); the input's gradient stays channels-last. Intermediates are closed (autograd keeps what the
         * backward pass needs).
         */
        NDArray pointwiseProduct(NDArray x, NDArray w) {
            long[] s = x.getShape().getShape();
            boolean strided = stride.get(0) > 1 || stride.get(1) > 1;
            NDArray nhwc = x.transpose(0, 2, 3, 1);
            NDArray in = strided ? nhwc.get(new NDIndex().addAllDim().addSliceDim(0, s[2], stride.get(0))
                    .addSliceDim(0, s[3], stride.get(1)).addAllDim()) : nhwc;
            try (NDArray wt = w.transpose(0, 2, 3, 1);
                 NDArray w2 = wt.reshape(w.getShape().get(0), s[1]);
                 NDArray y = onRows(in, rows -> ai.djl.nn.core.Linear.linear(rows, w2).singletonOrThrow())) {
                return y.transpose(0, 3, 1, 2);
            } finally {
                if (in != nhwc) {
                    in.close();
                }
                nhwc.close();
            }
        }

        /** One group per channel, with a stride above 1 or a kernel above 3×3. */
        boolean slowDepthwiseInBFloat16() {
            boolean depthwise = groups > 1 && groups == filters;
            return depthwise && (stride.get(0) > 1 || stride.get(1) > 1 || kernelShape.get(0) > 3
                    || kernelShape.get(1) > 3);
        }
    }

    static Block batchNorm() {
        return BatchNorm.builder().optEpsilon(BN_EPSILON).build();
    }

    /** Convolution → batch norm, no activation. */
    static SequentialBlock convBn(int filters, int kernel, int stride, int groups) {
        return new SequentialBlock().add(conv(filters, kernel, stride, groups)).add(batchNorm());
    }

    /** Convolution → batch norm → ReLU. */
    static SequentialBlock convBnRelu(int filters, int kernel, int stride) {
        return convBn(filters, kernel, stride, 1).add(Activation.reluBlock());
    }

    /** Convolution → batch norm → ReLU6 (MobileNet). */
    static SequentialBlock convBnRelu6(int filters, int kernel, int stride, int groups) {
        return convBn(filters, kernel, stride, groups).add(Activation.relu6Block());
    }

    /** Convolution → batch norm → SiLU (EfficientNet). */
    static SequentialBlock convBnSilu(int filters, int kernel, int stride, int groups) {
        return convBn(filters, kernel, stride, groups).add(siluBlock());
    }

    /** SiLU (swish with β = 1), x · sigmoid(x), named "SiLU" so that {@link InferenceNetwork} knows it. */
    static Block siluBlock() {
        return LambdaBlock.singleton(Layers::silu, "SiLU");
    }

    /** x · sigmoid(x); the sigmoid is freed at once (the autograd graph keeps what the backward pass needs). */
    static NDArray silu(NDArray x) {
        try (NDArray gate = x.getNDArrayInternal().sigmoid()) {
            return x.mul(gate);
        }
    }

    /**
     * {@code x · scale(x)}, where {@code scale} maps N×C×H×W to N×C×1×1 (a squeeze-excitation): a
     * {@code ParallelBlock} of {@code scale} and the identity joined by a broadcast product.
     */
    static Block gate(Block scale) {
        ParallelBlock product = new ParallelBlock(branches ->
                new NDList(branches.get(1).singletonOrThrow().mul(branches.get(0).singletonOrThrow())));
        product.add(scale);
        product.add(x -> x);
        GATES.add(product);
        return product;
    }

    /** Whether {@code block} is a product made by {@link #gate}; its first child is the scale branch. */
    static boolean isGate(Block block) {
        return GATES.contains(block);
    }

    /** {@code main(x) + shortcut(x)}; an identity shortcut when {@code shortcut} is null. */
    static Block residual(Block main, Block shortcut) {
        ParallelBlock sum = new ParallelBlock(Layers::addAll);
        sum.add(main);
        if (shortcut == null) {
            sum.add(x -> x);
        } else {
            sum.add(shortcut);
        }
        RESIDUALS.add(sum);
        return sum;
    }

    /** Whether {@code block} is a sum made by {@link #residual}. */
    static boolean isResidual(Block block) {
        return RESIDUALS.contains(block);
    }

    private static NDList addAll(List<NDList> branches) {
        NDArray total = branches.get(0).singletonOrThrow();
        for (int i = 1; i < branches.size(); i++) {
            total = total.add(branches.get(i).singletonOrThrow());
        }
        return new NDList(total);
    }
}
