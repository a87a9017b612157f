package ai.coopt.train.methods;

import ai.coopt.data.MultiCrop;
import ai.coopt.nn.Architectures;
import ai.coopt.nn.Network;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/** Multi-crop as DINO and SwAV use it: the small views' size for a backbone, and a head's outputs per view. */
final class MultiCrops {
    /** DINO's and SwAV's small views are 96 pixels of a 224-pixel image. */
    static final double SIDE_RATIO = 96.0 / 224.0;
    /** Their crop scale (DINO's {@code local_crops_scale}; SwAV's 0.05–0.14 for 96 px is close to its lower end). */
    static final double SCALE_MIN = 0.05;
    static final double SCALE_MAX = 0.4;

    private MultiCrops() {}

    /** {@code count} small views for {@code backbone}'s input, never smaller than the smallest input it takes. */
    static MultiCrop forBackbone(int count, Network backbone) {
        long[] s = backbone.inputShape().getShape();
        int side = (int) Math.min(s[2], s[3]);
        return MultiCrop.scaled(count, side, SIDE_RATIO, Architectures.minSide(backbone.arch()), SCALE_MIN, SCALE_MAX);
    }

    /**
     * A network's outputs for every view of the batch, one N-row array per view: the two full-size views first (run
     * together), then each small view (all small views run together: one resolution, one pass, as the reference code
     * groups crops by resolution).
     */
    static List<NDArray> perView(TrainingBatch batch, UnaryOperator<NDArray> network) {
        List<NDArray> out = new ArrayList<>();
        NDList global = network.apply(Views.both(batch)).split(2);
        out.add(global.get(0));
        out.add(global.get(1));
        if (batch.locals() != null && batch.localCount() > 0) {
            NDList local = network.apply(batch.locals()).split(batch.localCount());
            for (NDArray v : local) {
                out.add(v);
            }
        }
        return out;
    }
}
