package ai.coopt.nn;

import ai.coopt.engine.Engines;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
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
        Engines.seed(seed);
        NDManager manager = NDManager.newBaseManager(device);
        Shape input = new Shape(1, channels, height, width);
        Block block = backbone.block();
        block.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
        block.initialize(manager, DataType.FLOAT32, input);
        return new Network(backbone.arch(), block, backbone.featureDim(), input, manager);
    }

    public String arch() { return arch; }
    public int featureDim() { return featureDim; }
    /** Input shape with batch 1: (1, C, H, W). */
    public Shape inputShape() { return inputShape; }
    public Block block() { return block; }
    public NDManager manager() { return manager; }
    public Device device() { return manager.getDevice(); }

    /** Features of a batch; in training mode batch norm uses batch statistics and updates its running ones. */
    public NDArray forward(NDArray images, boolean training) {
        return block.forward(store, new NDList(images), training).singletonOrThrow();
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

    /** Writes the weights in DJL's block format. */
    public void saveWeights(OutputStream out) throws IOException {
        block.saveParameters(new DataOutputStream(out));
    }

    /** Reads weights written by {@link #saveWeights} for the same architecture and input shape. */
    public void loadWeights(InputStream in) throws IOException {
        try {
            block.loadParameters(manager, new DataInputStream(in));
        } catch (ai.djl.MalformedModelException e) {
            throw new IOException("weights do not fit " + arch + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
