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
 * @param locals multi-crop's small views stacked, (M·N)×C×s×s (all images' first small view, then the second…), or
 *     null when the method asks for none
 * @param localCount M, the number of small views per image (0 without)
 * @param step the number of this step, counting from 1
 * @param fractionDone the share of the run done before this step, in [0, 1] (what schedules are evaluated at)
 */
public record TrainingBatch(int[] indices, NDArray view1, NDArray view2, NDArray targets, NDManager manager,
                            NDArray locals, int localCount, long step, double fractionDone) {
    /** A batch of two views without small views, at the start of a run. */
    public TrainingBatch(int[] indices, NDArray view1, NDArray view2, NDArray targets, NDManager manager) {
        this(indices, view1, view2, targets, manager, null, 0, 1, 0);
    }

    public int size() {
        return indices.length;
    }
}
