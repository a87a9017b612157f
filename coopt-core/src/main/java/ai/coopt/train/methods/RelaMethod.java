package ai.coopt.train.methods;

import ai.coopt.nn.Network;
import ai.coopt.train.Losses;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.List;

/**
 * ReLA: the backbone followed by a linear transfer head (feature dimension → target dimension)
 * regresses each image's target; loss = mean over the batch of {@code 1 - cos(transfer(backbone(view)), y)},
 * averaged over the two views.
 */
final class RelaMethod extends HeadedMethod {
    private final Head transfer;
    private final int targetDim;

    private RelaMethod(Network backbone, NDManager manager, Head transfer, int targetDim) {
        super(backbone, manager, List.of(transfer));
        this.transfer = transfer;
        this.targetDim = targetDim;
    }

    /** Draws the transfer head (named {@code transfer}) from the engine's generator. */
    static RelaMethod create(Network backbone, int targetDim) {
        NDManager manager = backbone.manager().newSubManager();
        try {
            Head transfer = Head.create("transfer", Head.linear(targetDim), backbone.featureDim(), manager);
            return new RelaMethod(backbone, manager, transfer, targetDim);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return MethodSpec.RELA;
    }

    @Override
    public boolean needsTargets() {
        return true;
    }

    /** Both views in one pass; the mean over the 2N rows equals the average of the two views' means. */
    @Override
    public NDArray loss(TrainingBatch batch) {
        NDArray y = batch.targets();
        if (y == null || y.getShape().dimension() != 2 || y.getShape().get(1) != targetDim) {
            throw new IllegalArgumentException("rela needs targets of shape N×" + targetDim + ", got "
                    + (y == null ? "none" : y.getShape()));
        }
        return Losses.cosineDistance(predict(Views.both(batch)), NDArrays.concat(new NDList(y, y)));
    }

    /** The transfer head's outputs for a batch of images, in training mode. */
    NDArray predict(NDArray images) {
        return transfer.forward(backbone().forward(images, true), true);
    }

    /** Nothing to do: ReLA keeps no state between steps. */
    @Override
    public void afterStep(long step, double fractionDone, float loss) {
    }
}
