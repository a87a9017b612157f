package ai.coopt.prior;

import ai.coopt.UserException;
import ai.coopt.nn.Architectures;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Set;

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
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final float GRAY_MEAN = (0.485f + 0.456f + 0.406f) / 3;
    private static final float GRAY_STD = (0.229f + 0.224f + 0.225f) / 3;

    private final Path file;

    private PriorSidecar(Path file) {
        this.file = file;
    }

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
        InputSpec spec = Files.exists(file) ? new PriorSidecar(file).read(channels, height, width)
                : defaults(channels, height, width);
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

    private InputSpec read(int channels, int height, int width) {
        JsonNode root = parse();
        requireOnly(root, "the file", Set.of("input", "normalization"));
        JsonNode input = root.get("input");
        if (input != null) {
            requireObject(input, "input");
            requireOnly(input, "'input'", Set.of("channels", "height", "width"));
            channels = positiveInt(input, "channels");
            height = positiveInt(input, "height");
            width = positiveInt(input, "width");
            if (channels != 1 && channels != 3) {
                throw error("'input.channels' must be 1 or 3, found " + channels);
            }
        }
        JsonNode normalization = root.get("normalization");
        if (normalization == null) {
            return defaults(channels, height, width);
        }
        requireObject(normalization, "normalization");
        requireOnly(normalization, "'normalization'", Set.of("mean", "std"));
        float[] mean = floats(normalization, "mean", channels);
        float[] std = floats(normalization, "std", channels);
        for (float s : std) {
            if (!(s > 0)) {
                throw error("'normalization.std' must hold positive numbers, found " + s);
            }
        }
        return new InputSpec(channels, height, width, mean, std);
    }

    private JsonNode parse() {
        try {
            JsonNode root = MAPPER.readTree(Files.readAllBytes(file));
            if (root == null || !root.isObject()) {
                throw error("must hold a JSON object");
            }
            return root;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr();
            throw new UserException(file + ": not valid JSON (" + e.getOriginalMessage().replaceAll("\\s+", " ")
                    + where + ")", e);
        } catch (IOException e) {
            String reason = e instanceof AccessDeniedException ? "permission denied" : PriorFiles.reason(e);
            throw new UserException(file + ": cannot read: " + reason, e);
        }
    }

    private void requireOnly(JsonNode node, String where, Set<String> allowed) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw error("unknown field '" + name + "' in " + where + " (expected "
                        + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
        }
    }

    private void requireObject(JsonNode node, String name) {
        if (!node.isObject()) {
            throw error("'" + name + "' must be a JSON object");
        }
    }

    private int positiveInt(JsonNode parent, String name) {
        JsonNode node = parent.get(name);
        if (node == null || !node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() <= 0) {
            throw error("'input." + name + "' must be a positive integer, found " + node);
        }
        return node.intValue();
    }

    private float[] floats(JsonNode parent, String name, int length) {
        JsonNode node = parent.get(name);
        if (node == null || !node.isArray() || node.size() != length) {
            throw error("'normalization." + name + "' must be an array of " + length + " numbers (one per channel)");
        }
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            JsonNode v = node.get(i);
            if (!v.isNumber() || !Float.isFinite(v.floatValue())) {
                throw error("'normalization." + name + "' must hold finite numbers, found " + v);
            }
            values[i] = v.floatValue();
        }
        return values;
    }

    private UserException error(String message) {
        return new UserException(file + ": " + message);
    }

    private static float[] filled(int length, float value) {
        float[] values = new float[length];
        Arrays.fill(values, value);
        return values;
    }
}
