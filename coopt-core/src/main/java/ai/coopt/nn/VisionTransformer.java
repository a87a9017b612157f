package ai.coopt.nn;

import ai.coopt.engine.BFloat16;
import ai.coopt.engine.FusedAttention;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * {@code vit-tiny}: a Vision Transformer (Dosovitskiy et al. 2021) sized for 28×28 and 32×32 images, without the
 * classifier; 192 features, about 5.3 M parameters.
 * <ul>
 *   <li>Patches of {@value #PATCH}×{@value #PATCH} pixels, embedded by a {@value #PATCH}×{@value #PATCH}
 *       stride-{@value #PATCH} convolution with bias to width {@value #WIDTH}: 28 px gives 7×7 = 49 tokens, 32 px
 *       8×8 = 64 (a side that is not a multiple of {@value #PATCH} drops its last pixels, as the convolution
 *       does). A learnable class token (initialised to zero, as in the original) is put first.</li>
 *   <li>Fixed 2-D sine-cosine position embeddings, computed for whatever patch grid the input gives, so that any
 *       input of at least {@value #PATCH} pixels a side works without interpolating learnt embeddings (multi-crop
 *       methods feed smaller crops than the global views). Of the {@value #WIDTH} dimensions the first half encodes
 *       the patch's row, the second its column, each as sin(p·ω<sub>i</sub>) then cos(p·ω<sub>i</sub>) with
 *       ω<sub>i</sub> = 10000<sup>−i/48</sup>, i &lt; 48. The class token gets none.</li>
 *   <li>{@value #DEPTH} pre-norm encoder blocks: x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x)), with
 *       {@value #HEADS} heads of {@value #WIDTH}/{@value #HEADS} = 64 dimensions (one linear layer with bias makes
 *       queries, keys and values; another projects the heads back), an MLP {@value #WIDTH} → {@value #MLP} → GELU →
 *       {@value #WIDTH}, and LayerNorm ε = {@value #LN_EPSILON}. No dropout or stochastic depth.</li>
 *   <li>A final LayerNorm; the features are the class token's output.</li>
 * </ul>
 * Attention is written here with plain array operations: DJL's {@code TransformerEncoderBlock} is BERT's post-norm
 * block, not ViT's pre-norm one.
 */
final class VisionTransformer {
    static final int PATCH = 4;
    static final int WIDTH = 192;
    static final int DEPTH = 12;
    static final int HEADS = 3;
    static final int MLP = 768;
    static final float LN_EPSILON = 1e-6f;

    private VisionTransformer() {}

    static Backbone tiny() {
        SequentialBlock net = new SequentialBlock().add(new PatchEmbedding(PATCH, WIDTH));
        for (int i = 0; i < DEPTH; i++) {
            SequentialBlock attention = new SequentialBlock().add(layerNorm()).add(new SelfAttention(WIDTH, HEADS));
            SequentialBlock mlp = new SequentialBlock()
                    .add(layerNorm())
                    .add(new Linear(MLP))
                    .add(Activation.geluBlock())
                    .add(new Linear(WIDTH));
            net.add(Layers.residual(attention, null)).add(Layers.residual(mlp, null));
        }
        net.add(layerNorm()).add(LambdaBlock.singleton(x -> x.get(":, 0"), "ClassToken"));
        return new Backbone("vit-tiny", net, WIDTH);
    }

    /** LayerNorm over the last axis of N×T×D tokens. */
    private static Block layerNorm() {
        return LayerNorm.builder().axis(2).optEpsilon(LN_EPSILON).build();
    }

    /**
     * The position embedding of a {@code rows}×{@code columns} patch grid, row-major, {@code width} values a patch
     * (see the class comment); {@code width} must be a multiple of 4.
     */
    static float[] positions(int rows, int columns, int width) {
        int quarter = width / 4;
        double[] omega = new double[quarter];
        for (int i = 0; i < quarter; i++) {
            omega[i] = Math.pow(10000, -(double) i / quarter);
        }
        float[] out = new float[rows * columns * width];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                int base = (r * columns + c) * width;
                for (int i = 0; i < quarter; i++) {
                    out[base + i] = (float) Math.sin(r * omega[i]);
                    out[base + quarter + i] = (float) Math.cos(r * omega[i]);
                    out[base + 2 * quarter + i] = (float) Math.sin(c * omega[i]);
                    out[base + 3 * quarter + i] = (float) Math.cos(c * omega[i]);
                }
            }
        }
        return out;
    }

    /**
     * N×D×h×w patch embeddings to N×(1 + h·w)×D tokens: flattened row-major, position embeddings added, the class
     * token put first. The result and its intermediates live in {@code patches}' manager; the intermediates are
     * closed here (autograd keeps what the backward pass needs).
     */
    static NDArray tokens(NDArray patches, NDArray classToken) {
        long[] s = patches.getShape().getShape();
        long n = s[0];
        int d = (int) s[1];
        int h = (int) s[2];
        int w = (int) s[3];
        NDManager manager = patches.getManager();
        try (NDArray flat = patches.reshape(n, d, (long) h * w);
             NDArray sequence = flat.transpose(0, 2, 1);
             NDArray position = BFloat16.like(sequence, manager.create(positions(h, w, d), new Shape((long) h * w, d)));
             NDArray placed = sequence.add(position);
             NDArray first = classToken.broadcast(n, 1, d)) {
            // the broadcast is computed in the parameter's manager; the batch's must own what is made from it
            first.attach(manager);
            return first.concat(placed, 1);
        }
    }

    /**
     * Softmax self-attention of {@code heads} heads over N×T×3D packed queries, keys and values (the output of
     * one linear layer); N×T×D, the heads side by side. Intermediates are closed here. Outside training the
     * engine's fused attention computes it ({@link FusedAttention}); in training its separate operations, whose
     * backward pass is the faster one.
     */
    static NDArray attend(NDArray qkv, int heads, boolean training) {
        long[] s = qkv.getShape().getShape();
        long n = s[0];
        long t = s[1];
        long d = s[2] / 3;
        long headWidth = d / heads;
        // one split into three, not three selections: a selection's backward pass writes its gradient into zeros
        // of the whole packed array, and the three are then summed (on vit-tiny, 44 ms of fill and most of 260 ms of
        // in-place sums in a bf16 training step); a split's backward pass is one concatenation
        try (NDArray packed = qkv.reshape(n, t, 3, heads, headWidth);
             NDArray sorted = packed.transpose(2, 0, 3, 1, 4);
             NDList split = sorted.split(3, 0);
             NDArray q = split.get(0).squeeze(0);
             NDArray k = split.get(1).squeeze(0);
             NDArray v = split.get(2).squeeze(0);
             NDArray mixed = training || !FusedAttention.pays(q) ? attendSeparately(q, k, v)
                     : FusedAttention.apply(q, k, v);
             NDArray sideBySide = mixed.transpose(0, 2, 1, 3)) {
            return sideBySide.reshape(n, t, d);
        }
    }

    /** {@code softmax(q·kᵀ / √d)·v} for N×H×T×d queries, keys and values: scaled, multiplied, softmax, multiplied. */
    private static NDArray attendSeparately(NDArray q, NDArray k, NDArray v) {
        long headWidth = q.getShape().get(3);
        try (// a 0-dimensional float32 factor keeps bfloat16 queries bfloat16 (DJL's mul(Number) would need their type)
             NDArray scale = q.getManager().create((float) (1 / Math.sqrt(headWidth)));
             NDArray scaled = q.mul(scale);
             NDArray keys = k.transpose(0, 1, 3, 2);
             NDArray scores = scaled.matMul(keys);
             NDArray weights = softmax(scores)) {
            return weights.matMul(v);
        }
    }

    /** Softmax over the last axis, computed in float32 for bfloat16 scores and returned in their precision. */
    private static NDArray softmax(NDArray scores) {
        if (!BFloat16.isBFloat16(scores)) {
            return scores.softmax(-1);
        }
        try (NDArray wide = BFloat16.toFloat32(scores); NDArray weights = wide.softmax(-1)) {
            return BFloat16.of(weights);
        }
    }

    /**
     * Patch embedding, position embedding and class token (see {@link #tokens}): N×C×H×W images to
     * N×(1 + ⌊H/p⌋·⌊W/p⌋)×D tokens. An image smaller than one patch has no tokens.
     */
    static final class PatchEmbedding extends AbstractBlock implements ActivationCount {
        private final int patch;
        private final int width;
        private final Conv2d conv;
        private final Parameter classToken;

        PatchEmbedding(int patch, int width) {
            this.patch = patch;
            this.width = width;
            if (width % 4 != 0) {
                throw new IllegalArgumentException("the 2-D position embedding needs a width divisible by 4, not " + width);
            }
            conv = addChildBlock("patches", Conv2d.builder()
                    .setKernelShape(new Shape(patch, patch))
                    .optStride(new Shape(patch, patch))
                    .setFilters(width)
                    .optBias(true)
                    .build());
            classToken = addParameter(Parameter.builder()
                    .setName("classToken")
                    .setType(Parameter.Type.OTHER)
                    .optShape(new Shape(1, 1, width))
                    .optInitializer(Initializer.ZEROS)
                    .build());
        }

        @Override
        protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            NDArray patches = conv.forward(store, inputs, training).singletonOrThrow();
            NDArray token = store.getValue(classToken, patches.getDevice(), training);
            try (patches) {
                return new NDList(tokens(patches, token));
            }
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            Shape in = inputs[0];
            long grid = (in.get(2) / patch) * (in.get(3) / patch);
            return new Shape[] {new Shape(in.get(0), grid == 0 ? 0 : 1 + grid, width)};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            conv.initialize(manager, dataType, inputShapes);
        }

        /** The patch map, the flattened sequence, the position embedding, their sum and the tokens with the class token. */
        @Override
        public Elements activationElements(Shape in) {
            long patches = in.get(0) * (in.get(2) / patch) * (in.get(3) / patch) * width;
            long tokens = getOutputShapes(new Shape[] {in})[0].size();
            return Elements.ofArea(4 * patches + tokens);
        }
    }

    /** Multi-head self-attention over N×T×D tokens, with its input and output projections. */
    static final class SelfAttention extends AbstractBlock implements ActivationCount {
        private final int heads;
        private final Linear qkv;
        private final Linear projection;

        SelfAttention(int width, int heads) {
            if (width % heads != 0) {
                throw new IllegalArgumentException(heads + " heads do not divide width " + width);
            }
            this.heads = heads;
            qkv = addChildBlock("qkv", new Linear(3L * width));
            projection = addChildBlock("projection", new Linear(width));
        }

        @Override
        protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            try (NDArray packed = qkv.forward(store, inputs, training).singletonOrThrow();
                 NDArray mixed = attend(packed, heads, training)) {
                return projection.forward(store, new NDList(mixed), training);
            }
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {inputs[0]};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            qkv.initialize(manager, dataType, inputShapes);
            projection.initialize(manager, dataType, inputShapes);
        }

        /**
         * Per image of T tokens of width D: queries, keys and values (3·T·D), the scaled queries and the contiguous
         * copies the matrix products make of keys and values (3·T·D), the attended values, their heads side by
         * side and the projection (3·T·D); and per head the scores and their softmax (2·T² each).
         */
        @Override
        public Elements activationElements(Shape in) {
            long n = in.get(0);
            long t = in.get(1);
            long d = in.get(2);
            return new Elements(9 * n * t * d, 2 * n * heads * t * t);
        }
    }

    /**
     * DJL's linear layer over the rows of N×T×D tokens ({@link Layers#onRows}), so that the bias is added inside the
     * product. Its name is DJL's class's, so that a network's parameter names, and the weights' hashes made from them,
     * stay what they were.
     */
    static final class Linear extends ai.djl.nn.core.Linear {
        Linear(long units) {
            super(ai.djl.nn.core.Linear.builder().setUnits(units));
        }

        @Override
        protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            return new NDList(Layers.onRows(inputs.singletonOrThrow(),
                    rows -> super.forwardInternal(store, new NDList(rows), training, params).singletonOrThrow()));
        }
    }
}
