package ai.coopt.nn;

import ai.coopt.engine.Engines;
import ai.coopt.engine.Layouts;
import ai.coopt.engine.NoGrad;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.coopt.engine.BFloat16Parameters;
import ai.coopt.engine.Precision;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.training.initializer.XavierInitializer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A block with its weights: a {@link Backbone} (optionally followed by heads) initialised for one
 * input shape, owning the native memory of its parameters. Close it to free that memory.
 */
public final class Network implements AutoCloseable {
    private final String arch;
    private final Block block;
    private final int featureDim;
    private final Shape inputShape;
    private final NDManager manager;
    private final ParameterStore store;
    private volatile Precision precision = Precision.FP32;

    private Network(String arch, Block block, int featureDim, Shape inputShape, NDManager manager) {
        this.arch = arch;
        this.block = block;
        this.featureDim = featureDim;
        this.inputShape = inputShape;
        this.manager = manager;
        this.store = new ParameterStore(manager, false);
    }

    /**
     * Builds and initialises a backbone for images of {@code channels}×{@code height}×{@code width}.
     * The same seed gives the same weights.
     */
    public static Network create(String arch, int channels, int height, int width, long seed, Device device) {
        Backbone backbone = Architectures.create(arch);
        Architectures.checkInput(arch, channels, height, width);
        NDManager manager = NDManager.newBaseManager(device);
        Shape input = new Shape(1, channels, height, width);
        Block block = backbone.block();
        block.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
        fanInForDepthwise(block);
        // Initialising infers every layer's shape by running its activations on zeros of the input's size; the
        // weights' shapes do not depend on the height and width (convolutions, then a global pooling; a ViT's
        // position embeddings are computed for the input's grid, not learnt), so a large input is initialised at a
        // small size instead of allocating its full activations here.
        Shape initShape = new Shape(1, channels, Math.min(height, Architectures.REFERENCE_SIDE),
                Math.min(width, Architectures.REFERENCE_SIDE));
        // the engine has one global generator: seeding and drawing the weights must not interleave with
        // another thread's (participants build their priors concurrently)
        // autograd off while the weights are drawn and re-laid out: PyTorch's grad mode is per thread and DJL turns it
        // off only in the thread that loaded the engine, and in a thread where it is on, the channels-last copy of a
        // weight is a computed (non-leaf) tensor whose gradient flag cannot be set ("requires_grad flags of leaf
        // variables"): a network built in any thread other than the engine's first failed
        try (NoGrad ignored = NoGrad.enter()) {
            synchronized (INIT_LOCK) {
                Engines.seed(seed);
                block.initialize(manager, DataType.FLOAT32, initShape);
            }
            // convolution weights channels-last: the engine's convolutions, batch norm and pooling then run without
            // layout reorders (same values; see Layouts)
            Layouts.toChannelsLast(block);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        return new Network(backbone.arch(), block, backbone.featureDim(), input, manager);
    }

    private static final Object INIT_LOCK = new Object();

    /**
     * Depthwise convolutions (groups &gt; 1) drawn with Xavier's fan-in scale instead of the average of fan-in and
     * fan-out: for a C-channel depthwise 3×3 the average counts C×9 outputs against 9 inputs, so every such layer
     * shrank the signal by about √C, and a freshly initialised mobilenetv2 or efficientnet-b0 in inference mode (batch
     * norm's initial statistics) gave features of 1e-8 to 1e-13: a useless {@code random:} prior. Fan-in is what
     * PyTorch's default convolution initialisation uses.
     */
    private static void fanInForDepthwise(Block block) {
        if (block instanceof Convolution conv && conv.getGroups() > 1) {
            conv.setInitializer(new XavierInitializer(XavierInitializer.RandomType.UNIFORM,
                    XavierInitializer.FactorType.IN, 3), Parameter.Type.WEIGHT);
        }
        for (Block child : block.getChildren().values()) {
            fanInForDepthwise(child);
        }
    }
    /** An estimate of the engine memory one image takes in a forward pass, see {@link Architectures#activationBytes}. */
    public long activationBytesPerImage() {
        long[] s = inputShape.getShape();
        return Architectures.activationBytes(arch, (int) s[1], (int) s[2], (int) s[3]);
    }

    public String arch() { return arch; }
    public int featureDim() { return featureDim; }
    /** Input shape with batch 1: (1, C, H, W). */
    public Shape inputShape() { return inputShape; }
    public Block block() { return block; }
    public NDManager manager() { return manager; }
    public Device device() { return manager.getDevice(); }

    /**
     * Features of a batch; in training mode batch norm uses batch statistics and updates its running ones. In bf16
     * ({@link #computeIn}) the pass computes in bfloat16 on copies of the float32 weights and returns float32
     * features ({@link BFloat16Parameters}).
     */
    public NDArray forward(NDArray images, boolean training) {
        return FreeingForward.forward(block, store, images, training, precision);
    }

    /** What {@link #forward} computes in from now on (this network, for chaining); the weights stay float32. */
    public Network computeIn(Precision precision) {
        this.precision = java.util.Objects.requireNonNull(precision);
        return this;
    }

    public Precision precision() {
        return precision;
    }

    /** Parameters the optimiser updates (batch-norm running statistics excluded). */
    public List<Parameter> trainableParameters() {
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : block.getParameters().values()) {
            if (p.requiresGradient()) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * SHA-256 over every parameter in order: its name (UTF-8) then its values as little-endian
     * float32. Identifies the exact weights of a network that has no file of its own.
     */
    public String weightsSha256() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (var entry : block.getParameters()) {
                md.update(entry.getKey().getBytes(StandardCharsets.UTF_8));
                float[] values = entry.getValue().getArray().toFloatArray();
                ByteBuffer buf = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(values);
                md.update(buf.array());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
