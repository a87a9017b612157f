package ai.coopt.train;

import ai.coopt.UserException;
import ai.coopt.engine.ArrayValues;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Json;
import ai.coopt.store.ModelDirectory;
import ai.coopt.store.SafeTensors;
import ai.coopt.store.Tensor;
import ai.coopt.store.TensorFile;
import ai.djl.ndarray.NDArray;

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

    /** Where the loop stood; {@value #JSON} holds it field for field. */
    record Position(long step, int epoch, int batchInEpoch, double trainSeconds, Map<String, Double> scalars) {}

    private TrainState() {}

    static void save(Path checkpoint, Map<String, NDArray> arrays, Position position) {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        arrays.forEach((name, a) -> tensors.put(name, new Tensor.F32(a.getShape().getShape(), a.toFloatArray())));
        SafeTensors.write(checkpoint.resolve(TENSORS), tensors, Map.of());
        AtomicFiles.writeJson(checkpoint.resolve(JSON), position);
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
        return Json.read(checkpoint.resolve(JSON), Position.class, Map.of());
    }
}
