package ai.coopt.prior;

import ai.coopt.UserException;
import ai.coopt.nn.Architectures;
import ai.coopt.store.Json;
import ai.coopt.store.ModelDirectory;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The optional JSON file that says what input a model file takes, since model files carry no
 * reliable normalisation. It lies next to the model and is named after the whole file name plus
 * {@code .json} ({@code clip.pt} → {@code clip.pt.json}, {@code clip.onnx} → {@code clip.onnx.json}):
 *
 * <pre>{"input": {"channels": 3, "height": 224, "width": 224},
 *  "normalization": {"mean": [0.481, 0.458, 0.408], "std": [0.269, 0.261, 0.276]}}</pre>
 *
 * <p>Both parts are optional. Without {@code input} the caller's default size applies; without
 * {@code normalization}, ImageNet's statistics (for one channel, the average of ImageNet's three).
 */
final class PriorSidecar {
    private static final float GRAY_MEAN = (0.485f + 0.456f + 0.406f) / 3;
    private static final float GRAY_STD = (0.229f + 0.224f + 0.225f) / 3;
    /** Both parts may be left out (or null). */
    private static final Map<String, JsonNode> OPTIONAL = Map.of(
            "/input", NullNode.getInstance(), "/normalization", NullNode.getInstance());

    /** The file, field for field: the same {@code input} and {@code normalization} objects as a model.json's. */
    private record Sidecar(@JsonSetter(nulls = Nulls.SET) ModelDirectory.Input input,
                           @JsonSetter(nulls = Nulls.SET) ModelDirectory.InputNormalization normalization) {}

    private PriorSidecar() {}

    /** Where the sidecar of {@code model} lies, whether or not it exists. */
    static Path pathFor(Path model) {
        return model.resolveSibling(model.getFileName() + ".json");
    }

    /**
     * The input of {@code model}: its sidecar's, completed by the given default size and
     * ImageNet normalisation, or those defaults alone when there is no sidecar.
     *
     * @throws UserException when the sidecar cannot be read or is not as documented
     */
    static InputSpec inputFor(Path model, int channels, int height, int width) {
        Path file = pathFor(model);
        InputSpec spec = Files.exists(file) ? read(file, channels, height, width) : defaults(channels, height, width);
        if (spec.height() > Architectures.MAX_SIDE || spec.width() > Architectures.MAX_SIDE) {
            throw new UserException((Files.exists(file) ? file : model) + ": input " + spec.height() + "x" + spec.width()
                    + " is beyond the " + Architectures.MAX_SIDE + " pixels a side coopt feeds a model");
        }
        return spec;
    }

    /** The given size with ImageNet normalisation (averaged over the three channels for one channel). */
    static InputSpec defaults(int channels, int height, int width) {
        if (channels == 3) {
            return InputSpec.imagenet(height, width);
        }
        return new InputSpec(channels, height, width, filled(channels, GRAY_MEAN), filled(channels, GRAY_STD));
    }

    private static InputSpec read(Path file, int channels, int height, int width) {
        Sidecar sidecar = Json.read(file, Sidecar.class, OPTIONAL);
        if (sidecar.input() != null) {
            channels = sidecar.input().channels();
            height = sidecar.input().height();
            width = sidecar.input().width();
        }
        if (sidecar.normalization() == null) {
            return defaults(channels, height, width);
        }
        float[] mean = sidecar.normalization().mean();
        float[] std = sidecar.normalization().std();
        if (mean.length != channels || std.length != channels) {
            throw new UserException(file + ": field 'normalization." + (mean.length != channels ? "mean" : "std")
                    + "' must be an array of " + channels + " numbers (one per channel)");
        }
        return new InputSpec(channels, height, width, mean, std);
    }

    private static float[] filled(int length, float value) {
        float[] values = new float[length];
        Arrays.fill(values, value);
        return values;
    }
}
