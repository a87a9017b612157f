package ai.coopt.prior;

import ai.coopt.data.ImageSet;
import ai.coopt.data.Normalization;
import ai.coopt.engine.NativeWork;
import ai.coopt.engine.Precision;
import ai.coopt.engine.Staging;
import ai.coopt.nn.InferenceNetwork;
import ai.coopt.nn.Network;
import ai.coopt.store.ModelDirectory;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.nio.file.Path;

/**
 * A prior that is one of this project's networks: a randomly initialised backbone
 * ({@code random:ARCH[:SEED]}) or a model directory ({@code model:DIR}). Runs in inference mode, as an
 * {@link InferenceNetwork} (batch norm folded into the convolutions, autograd off); the network it was folded
 * from is closed once folded.
 */
final class NetworkPrior implements Prior {
    private final String spec;
    private final String kind;
    private final InferenceNetwork network;
    private final long activationBytesPerImage;
    private final InputSpec input;
    private final String weightsSha256;
    private final Staging staging = new Staging();

    private NetworkPrior(String spec, String kind, Network network, InputSpec input, String weightsSha256,
                         Precision precision) {
        this.spec = spec;
        this.kind = kind;
        this.input = input;
        this.weightsSha256 = weightsSha256;
        try (network) {
            this.activationBytesPerImage = network.activationBytesPerImage();
            this.network = InferenceNetwork.of(network, precision);
        }
    }

    /**
     * A random backbone for images shaped like {@code data}, normalised with {@code data}'s own
     * channel statistics (a random network has no training distribution of its own).
     */
    static NetworkPrior random(String arch, long seed, ImageSet data, Device device, Precision precision) {
        Network net = Network.create(arch, data.channels(), data.height(), data.width(), seed, device);
        Normalization norm = Normalization.forImages(data);
        InputSpec input = new InputSpec(data.channels(), data.height(), data.width(), norm.mean(), norm.std());
        return new NetworkPrior("random:" + arch + ":" + seed, "random", net, input, net.weightsSha256(), precision);
    }

    /** A model directory written by this project, with the input shape and normalisation it records. */
    static NetworkPrior model(Path dir, Device device, Precision precision) {
        ModelDirectory model = ModelDirectory.read(dir);
        InputSpec input = new InputSpec(model.channels(), model.height(), model.width(), model.mean(), model.std());
        return new NetworkPrior("model:" + dir.toAbsolutePath().normalize(), "model", model.open(device), input,
                model.weightsSha256(), precision);
    }

    @Override
    public String spec() {
        return spec;
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public Precision precision() {
        return network.precision();
    }

    @Override
    public InputSpec input() {
        return input;
    }

    @Override
    public int outputDim() {
        return network.featureDim();
    }

    @Override
    public String weightsSha256() {
        return weightsSha256;
    }

    /** The architecture name. */
    String arch() {
        return network.arch();
    }

    @Override
    public synchronized float[] embed(float[] images, int batch) {
        try (NativeWork section = NativeWork.enter(); NDManager step = network.manager().newSubManager()) {
            NDArray x = staging.create(step, images, 0, new Shape(batch, input.channels(), input.height(), input.width()));
            return network.forward(x).toFloatArray();
        }
    }

    @Override
    public long activationBytesPerImage() {
        return activationBytesPerImage;
    }

    @Override
    public void close() {
        network.close();
    }
}
