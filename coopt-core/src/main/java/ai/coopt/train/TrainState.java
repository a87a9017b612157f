package ai.coopt.train;

import ai.coopt.UserException;
import ai.coopt.engine.ArrayValues;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.ModelDirectory;
import ai.coopt.store.SafeTensors;
import ai.coopt.store.Tensor;
import ai.coopt.store.TensorFile;
import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a run needs to continue exactly where it stopped, saved inside a checkpoint next to
 * the backbone: every trainable parameter, the method's extra state (momentum encoders, batch-norm
 * statistics), the optimiser's moments ({@value #TENSORS}), and the counters ({@value #JSON},
 * written last: its presence marks a complete checkpoint).
 */
final class TrainState {
    static final String TENSORS = ModelDirectory.STATE_TENSORS_FILE;
    static final String JSON = ModelDirectory.STATE_JSON_FILE;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Where the loop stood. */
    record Position(long step, int epoch, int batchInEpoch, double trainSeconds, Map<String, Double> scalars) {}

    private TrainState() {}

    static void save(Path checkpoint, Map<String, NDArray> arrays, Position position) {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        arrays.forEach((name, a) -> tensors.put(name, new Tensor.F32(a.getShape().getShape(), a.toFloatArray())));
        SafeTensors.write(checkpoint.resolve(TENSORS), tensors, Map.of());
        ObjectNode json = MAPPER.createObjectNode();
        json.put("step", position.step());
        json.put("epoch", position.epoch());
        json.put("batch_in_epoch", position.batchInEpoch());
        json.put("train_seconds", position.trainSeconds());
        ObjectNode scalars = json.putObject("scalars");
        position.scalars().forEach(scalars::put);
        AtomicFiles.writeJson(checkpoint.resolve(JSON), json);
    }

    static boolean isComplete(Path checkpoint) {
        return Files.isRegularFile(checkpoint.resolve(JSON)) && Files.isRegularFile(checkpoint.resolve(TENSORS));
    }

    /** Overwrites {@code arrays} in place with the checkpoint's values and returns the position. */
    static Position load(Path checkpoint, Map<String, NDArray> arrays) {
        TensorFile file = SafeTensors.read(checkpoint.resolve(TENSORS));
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            if (!file.tensors().containsKey(e.getKey())) {
                throw new UserException(checkpoint + ": the checkpoint has no '" + e.getKey()
                        + "': it was written by a different method or architecture");
            }
            Tensor.F32 t = file.f32(e.getKey());
            if (!Arrays.equals(t.shape(), e.getValue().getShape().getShape())) {
                throw new UserException(checkpoint + ": '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + ", the run expects " + e.getValue().getShape());
            }
            ArrayValues.assign(e.getValue(), t.data());
        }
        if (file.tensors().size() != arrays.size()) {
            throw new UserException(checkpoint + ": the checkpoint holds " + file.tensors().size()
                    + " arrays, the run has " + arrays.size() + ": it was written by a different method or architecture");
        }
        try {
            JsonNode json = MAPPER.readTree(checkpoint.resolve(JSON).toFile());
            Map<String, Double> scalars = new LinkedHashMap<>();
            json.path("scalars").fields().forEachRemaining(f -> scalars.put(f.getKey(), f.getValue().asDouble()));
            return new Position(json.get("step").asLong(), json.get("epoch").asInt(), json.get("batch_in_epoch").asInt(),
                    json.get("train_seconds").asDouble(), scalars);
        } catch (IOException | NullPointerException e) {
            throw new UserException(checkpoint.resolve(JSON) + ": unreadable training state: " + e.getMessage());
        }
    }
}
