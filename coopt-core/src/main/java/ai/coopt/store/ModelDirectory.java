package ai.coopt.store;

import ai.coopt.UserException;
import ai.coopt.data.Normalization;
import ai.coopt.engine.ArrayValues;
import ai.coopt.nn.Architectures;
import ai.coopt.nn.Network;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A trained or initialised backbone saved by this project: a directory with {@value #MODEL_JSON} (format
 * {@value #FORMAT}: architecture, feature dimension, input size, input normalisation, method, provenance, and
 * the weights' file name and SHA-256) and {@value #WEIGHTS_FILE}, one float32 tensor per DJL parameter
 * (batch-norm running statistics included) named by its parameter path, e.g.
 * {@code 01SequentialBlock_01Conv2d_weight}. Instances are read with {@link #read} and are immutable.
 */
public final class ModelDirectory {
    /** The value of the {@code format} field this version writes and reads. */
    public static final String FORMAT = "coopt-model/1";
    /** The description file. */
    public static final String MODEL_JSON = "model.json";
    /** The weights file this version writes. */
    public static final String WEIGHTS_FILE = "weights.safetensors";
    /** In a training checkpoint (a model directory), the training state's tensors. */
    public static final String STATE_TENSORS_FILE = "train-state.safetensors";
    /** In a training checkpoint, the training state's position; written last, it marks the checkpoint whole. */
    public static final String STATE_JSON_FILE = "train-state.json";
    /** Model directories, recognised by their {@value #MODEL_JSON}; a training checkpoint also holds its state. */
    public static final DirectoryKind KIND = new DirectoryKind("CoOpt model directory", MODEL_JSON, FORMAT,
            java.util.Set.of(MODEL_JSON, WEIGHTS_FILE, STATE_TENSORS_FILE, STATE_JSON_FILE));

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final Path dir;
    private final Description description;
    private final Path weights;

    private ModelDirectory(Path dir, Description description, Path weights) {
        this.dir = dir;
        this.description = description;
        this.weights = weights;
    }

    /**
     * The images a model takes: the {@code input} object of {@value #MODEL_JSON}, and of a prior's sidecar.
     *
     * @throws IllegalArgumentException when a size is not positive or the channels are not 1 or 3
     */
    public record Input(int channels, int height, int width) {
        public Input {
            positive("channels", channels);
            positive("height", height);
            positive("width", width);
            if (channels != 1 && channels != 3) {
                throw new Json.BadField("channels", "must be 1 or 3, found " + channels);
            }
        }

        private static void positive(String name, int value) {
            if (value <= 0) {
                throw new Json.BadField(name, "must be a positive integer, found " + value);
            }
        }
    }

    /**
     * The per-channel mean and standard deviation of pixel/255 that inputs are normalised with: the
     * {@code normalization} object of {@value #MODEL_JSON}, and of a prior's sidecar.
     *
     * @throws IllegalArgumentException when a value is not finite or a standard deviation is not positive
     */
    public record InputNormalization(float[] mean, float[] std) {
        public InputNormalization {
            finite("mean", mean);
            finite("std", std);
            for (float s : std) {
                if (!(s > 0)) {
                    throw new Json.BadField("std", "must hold positive numbers, found " + s);
                }
            }
            mean = mean.clone();
            std = std.clone();
        }

        private static void finite(String name, float[] values) {
            for (float v : values) {
                if (!Float.isFinite(v)) {
                    throw new Json.BadField(name, "must hold finite numbers, found " + v);
                }
            }
        }

        /** @throws Json.BadField when mean or std does not hold one value per channel */
        void requireChannels(int channels) {
            if (mean.length != channels) {
                throw new Json.BadField("normalization.mean", "must be an array of " + channels + " numbers");
            }
            if (std.length != channels) {
                throw new Json.BadField("normalization.std", "must be an array of " + channels + " numbers");
            }
        }
    }

    /** The weights file's name inside the directory, and its SHA-256. */
    record Weights(String file, String sha256) {
        Weights {
            if (file.isBlank() || file.contains("/") || file.contains("\\") || file.equals(".") || file.equals("..")) {
                throw new Json.BadField("file", "must be a file name inside the directory, found '" + file + "'");
            }
            if (!SHA256.matcher(sha256).matches()) {
                throw new Json.BadField("sha256", "must be 64 lower-case hex digits");
            }
        }
    }

    /** {@value #MODEL_JSON}, field for field. */
    record Description(String format, String arch, int featureDim, Input input, InputNormalization normalization,
                       String method, ObjectNode provenance, Weights weights) {
        Description {
            if (!Architectures.names().contains(arch)) {
                throw new IllegalArgumentException("unknown architecture '" + arch + "' (known: "
                        + String.join(", ", Architectures.names()) + ")");
            }
            if (featureDim <= 0) {
                throw new Json.BadField("feature_dim", "must be a positive integer, found " + featureDim);
            }
            if (input.height() > Architectures.MAX_SIDE || input.width() > Architectures.MAX_SIDE) {
                throw new IllegalArgumentException("input " + input.height() + "x" + input.width() + " is beyond the "
                        + Architectures.MAX_SIDE + " pixels a side any architecture is built for");
            }
            normalization.requireChannels(input.channels());
            if (method.isBlank()) {
                throw new Json.BadField("method", "must be a non-empty string");
            }
        }
    }

    /**
     * Saves {@code net} as a model directory, atomically: the directory appears complete or not at all.
     * An existing model directory (or empty directory) at {@code dir} is replaced; anything else is refused.
     *
     * @param mean per-channel mean of pixel/255 that inputs are normalised with
     * @param std per-channel standard deviation of pixel/255 that inputs are normalised with
     * @param method how the weights were obtained, e.g. {@code random-init}, {@code byol}, {@code rela}
     * @param provenance free description of how the model was made (data, targets, hyper-parameters, seed,
     *     wall time, tool version, command line); stored as given
     * @throws IllegalArgumentException when mean/std do not fit the network's channels or method is blank
     * @throws UserException when {@code dir} may not be replaced or cannot be written
     */
    public static void write(Path dir, Network net, float[] mean, float[] std, String method, ObjectNode provenance) {
        int[] input = Arrays.stream(net.inputShape().getShape()).mapToInt(Math::toIntExact).toArray();
        if (mean.length != input[1]) {
            throw new IllegalArgumentException("normalisation has " + mean.length + " channels, the network " + input[1]);
        }
        Normalization.of(mean, std);
        if (method == null || method.isBlank()) {
            throw new IllegalArgumentException("the method must be named");
        }
        LinkedHashMap<String, Tensor> tensors = tensors(net);
        AtomicFiles.writeDirectory(dir, KIND, true, tmp -> {
            Path weightsFile = tmp.resolve(WEIGHTS_FILE);
            SafeTensors.write(weightsFile, tensors, Map.of("arch", net.arch()));
            AtomicFiles.writeJson(tmp.resolve(MODEL_JSON), new Description(FORMAT, net.arch(), net.featureDim(),
                    new Input(input[1], input[2], input[3]), new InputNormalization(mean, std), method,
                    provenance == null ? Json.MAPPER.createObjectNode() : provenance.deepCopy(),
                    new Weights(WEIGHTS_FILE, Checksums.sha256(weightsFile))));
        });
    }

    /**
     * Reads and validates a model directory: the description's format and fields, and the weights' checksum.
     *
     * @throws UserException with one line naming the directory or file for anything missing, malformed or modified
     */
    public static ModelDirectory read(Path dir) {
        if (!Files.exists(dir)) {
            throw new UserException(dir + ": no such directory");
        }
        if (!Files.isDirectory(dir)) {
            throw new UserException(dir + ": not a directory (expected a " + KIND.description() + ")");
        }
        Path jsonFile = dir.resolve(MODEL_JSON);
        if (!Files.exists(jsonFile)) {
            throw new UserException(dir + ": not a " + KIND.description() + " (no " + MODEL_JSON + ")");
        }
        Description description = Json.convert(jsonFile, Json.readFormatted(jsonFile, KIND, "description"),
                Description.class, Map.of());
        String name = description.weights().file();
        String expected = description.weights().sha256();
        Path weights = dir.resolve(name);
        if (!Files.isRegularFile(weights)) {
            throw new UserException(weights + ": missing (" + MODEL_JSON + " refers to it)");
        }
        ModelDirectory model = new ModelDirectory(dir, description, weights);
        String actual = Checksums.sha256(weights);
        if (!actual.equals(expected)) {
            throw new UserException(dir + ": checksum mismatch: " + name + " was modified or is corrupt (sha256 "
                    + actual + ", " + MODEL_JSON + " records " + expected + ")");
        }
        return model;
    }

    /**
     * Builds the network on {@code device} and loads the weights into it. The caller closes the network.
     *
     * @throws UserException when the weights file is corrupt or its tensors do not match the architecture's
     *     parameters exactly (names, dtype, shapes)
     */
    public Network open(Device device) {
        TensorFile file = SafeTensors.read(weights);
        Network net = Network.create(arch(), channels(), height(), width(), 0, device);
        boolean loaded = false;
        try {
            if (net.featureDim() != featureDim()) {
                throw new UserException(dir.resolve(MODEL_JSON) + ": feature_dim " + featureDim() + " does not match "
                        + arch() + " (" + net.featureDim() + ")");
            }
            try (ai.coopt.engine.NoGrad ignored = ai.coopt.engine.NoGrad.enter()) {
                load(file, net);
            }
            loaded = true;
            return net;
        } finally {
            if (!loaded) {
                net.close();
            }
        }
    }

    /**
     * Everything {@link #open} checks, without keeping the network: the architecture builds for the recorded
     * input, its feature width matches, and the weights are exactly its parameters (names, shapes), all finite.
     * This is what {@code coopt inspect} runs, so that it passes no directory that loading would refuse.
     *
     * @throws UserException naming what is wrong
     */
    public void verify() {
        open(Device.cpu()).close();
    }

    private void load(TensorFile file, Network net) {
        PairList<String, Parameter> parameters = net.block().getParameters();
        for (String name : file.tensors().keySet()) {
            if (!parameters.contains(name)) {
                throw new UserException(weights + ": tensor '" + name + "' is not a parameter of " + arch());
            }
        }
        for (Pair<String, Parameter> p : parameters) {
            String name = p.getKey();
            if (!file.tensors().containsKey(name)) {
                throw new UserException(weights + ": missing tensor '" + name + "' that " + arch() + " needs");
            }
            Tensor.F32 tensor = file.f32(name);
            NDArray array = p.getValue().getArray();
            long[] shape = array.getShape().getShape();
            if (!Arrays.equals(shape, tensor.shape())) {
                throw new UserException(weights + ": tensor '" + name + "' has shape " + Arrays.toString(tensor.shape())
                        + ", " + arch() + " expects " + Arrays.toString(shape));
            }
            float[] values = tensor.data();
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) {
                    throw new UserException(weights + ": tensor '" + name + "' holds a value that is not finite ("
                            + values[i] + " at index " + i + ")");
                }
            }
            ArrayValues.assign(array, values);
        }
    }

    /** One float32 tensor per parameter, named by its unique parameter path. */
    private static LinkedHashMap<String, Tensor> tensors(Network net) {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : net.block().getParameters()) {
            NDArray array = p.getValue().getArray();
            if (array.getDataType() != DataType.FLOAT32) {
                throw new IllegalStateException("parameter " + p.getKey() + " is " + array.getDataType() + ", not float32");
            }
            Tensor previous = tensors.put(p.getKey(), new Tensor.F32(array.getShape().getShape(), array.toFloatArray()));
            if (previous != null) {
                throw new IllegalStateException("two parameters are named " + p.getKey());
            }
        }
        return tensors;
    }

    /** The directory it was read from. */
    public Path dir() { return dir; }
    /** The architecture name, one of {@link Architectures#names()}. */
    public String arch() { return description.arch(); }
    /** The width of the feature vector. */
    public int featureDim() { return description.featureDim(); }
    /** Input channels. */
    public int channels() { return description.input().channels(); }
    /** Input height in pixels. */
    public int height() { return description.input().height(); }
    /** Input width in pixels. */
    public int width() { return description.input().width(); }
    /** A copy of the per-channel mean of pixel/255 that inputs are normalised with. */
    public float[] mean() { return description.normalization().mean().clone(); }
    /** A copy of the per-channel standard deviation of pixel/255 that inputs are normalised with. */
    public float[] std() { return description.normalization().std().clone(); }
    /** The input normalisation as the data package applies it. */
    public Normalization normalization() { return Normalization.of(mean(), std()); }
    /** How the weights were obtained, e.g. {@code random-init}. */
    public String method() { return description.method(); }
    /** A copy of the provenance object. */
    public ObjectNode provenance() { return description.provenance().deepCopy(); }
    /** The weights file. */
    public Path weightsFile() { return weights; }
    /** The verified SHA-256 of the weights file, 64 lower-case hex digits. */
    public String weightsSha256() { return description.weights().sha256(); }
}
