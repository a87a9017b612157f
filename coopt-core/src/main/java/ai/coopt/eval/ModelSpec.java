package ai.coopt.eval;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.data.Normalization;
import ai.coopt.nn.Architectures;
import ai.coopt.nn.Network;
import ai.coopt.store.ModelDirectory;
import ai.djl.Device;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code --model} names: {@code random:ARCH[:SEED]} (a randomly initialised backbone, the
 * baseline every method must beat) or a model directory written by this project
 * ({@code model:DIR}, or just {@code DIR}).
 */
public record ModelSpec(String spec, String arch, long seed, Path dir) {
    static final String FORMS = "random:ARCH[:SEED] or model:DIR (a model directory written by coopt)";

    public static ModelSpec parse(String spec) {
        if (spec.startsWith("random:")) {
            String[] parts = spec.substring("random:".length()).split(":", -1);
            if (parts.length > 2 || parts[0].isEmpty()) {
                throw new UserException("bad model spec '" + spec + "': expected " + FORMS);
            }
            Architectures.create(parts[0]);
            long seed = 0;
            if (parts.length == 2) {
                try {
                    seed = Long.parseLong(parts[1]);
                } catch (NumberFormatException e) {
                    throw new UserException("bad seed in model spec '" + spec + "': '" + parts[1] + "' is not an integer");
                }
            }
            return new ModelSpec(spec, parts[0], seed, null);
        }
        Path dir = Path.of(spec.startsWith("model:") ? spec.substring("model:".length()) : spec);
        if (!Files.isDirectory(dir)) {
            throw new UserException("model '" + spec + "' is neither " + FORMS + " nor an existing directory");
        }
        return new ModelSpec(spec, null, 0, dir);
    }

    /** A network ready for inference with the normalisation its inputs need. */
    public record Opened(Network network, Normalization normalization, String description) implements AutoCloseable {
        @Override
        public void close() {
            network.close();
        }
    }

    /**
     * Opens the model for images shaped like {@code data}. A random backbone is built for that
     * shape and normalises with {@code data}'s own channel statistics; a model directory brings
     * its own normalisation and must have been trained on images of the same shape.
     */
    public Opened open(ImageSet data, Device device) {
        if (dir == null) {
            Network net = Network.create(arch, data.channels(), data.height(), data.width(), seed, device);
            return new Opened(net, Normalization.forImages(data), "random " + arch + " (seed " + seed + ")");
        }
        ModelDirectory model = ModelDirectory.read(dir);
        if (model.channels() != data.channels() || model.height() != data.height() || model.width() != data.width()) {
            throw new UserException(dir + ": the model takes " + model.channels() + "x" + model.height() + "x" + model.width()
                    + " images, the data is " + data.channels() + "x" + data.height() + "x" + data.width());
        }
        return new Opened(model.open(device), Normalization.of(model.mean(), model.std()),
                model.method() + " " + model.arch() + " from " + dir);
    }
}
