package ai.coopt.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * One step's input, as NDArrays in the step's own manager (closed when the step ends).
 *
 * @param indices each row's index in the training image set
 * @param view1 first augmented view, N×C×H×W
 * @param view2 second augmented view, N×C×H×W
 * @param targets the rows' targets (N×D) for methods that regress them, else null
 * @param manager the step's manager: create any array the loss needs here
 */
public record TrainingBatch(int[] indices, NDArray view1, NDArray view2, NDArray targets, NDManager manager) {
    public int size() {
        return indices.length;
    }
}
