package ai.coopt.collab;

import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;

import java.util.ArrayList;
import java.util.List;

/** The platform inside this process: it holds the split's images and the uploads. */
public final class InProcessPlatform implements Platform {
    private final ImageSet data;
    private final ShardPlan plan;
    private final List<Contribution> uploads = new ArrayList<>();

    public InProcessPlatform(ImageSet data, ShardPlan plan) {
        this.data = data;
        this.plan = plan;
    }

    @Override
    public ShardPlan plan() {
        return plan;
    }

    @Override
    public ImageSet shard(int k) {
        return data.subset(plan.shard(k));
    }

    @Override
    public ImageSet shared() {
        return data.subset(plan.shared());
    }

    @Override
    public void upload(Contribution c) {
        int rows = plan.shard(c.participant()).length;
        if (c.shardIds().length != rows || c.shardOutputs().length != (long) rows * c.outputDim()
                || c.sharedOutputs().length != (long) plan.shared().length * c.outputDim()) {
            throw new IllegalArgumentException("participant " + c.participant() + " uploaded outputs of the wrong shape");
        }
        for (float[] values : new float[][] {c.shardOutputs(), c.sharedOutputs()}) {
            for (float v : values) {
                if (!Float.isFinite(v)) {
                    throw new ai.coopt.UserException("participant " + c.participant() + " (" + c.prior().prior()
                            + ") uploaded a non-finite output; its prior is unusable on this data");
                }
            }
        }
        uploads.add(c);
    }

    /** What was uploaded, in participant order. */
    List<Contribution> uploads() {
        List<Contribution> sorted = new ArrayList<>(uploads);
        sorted.sort((a, b) -> Integer.compare(a.participant(), b.participant()));
        return sorted;
    }
}
