package ai.coopt.train.methods;

import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;

/**
 * The two views of a batch stacked into one 2N batch (view 1 first), so each network runs once per
 * step and batch norm normalises over both views together, as the BYOL and SimCLR reference code do.
 */
final class Views {
    private Views() {}

    static NDArray both(TrainingBatch batch) {
        return NDArrays.concat(new NDList(batch.view1(), batch.view2()));
    }
}
