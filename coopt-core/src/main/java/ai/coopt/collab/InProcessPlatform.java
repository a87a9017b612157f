package ai.coopt.collab;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;
import ai.coopt.store.Rows;

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
        if (c.shardIds().length != rows || c.shardOutputs().count() != rows || c.shardOutputs().dim() != c.outputDim()
                || c.sharedOutputs().length != (long) plan.shared().length * c.outputDim()) {
            throw new IllegalArgumentException("participant " + c.participant() + " uploaded outputs of the wrong shape");
        }
        if (!allFinite(c.sharedOutputs(), c.sharedOutputs().length)) {
            throw nonFinite(c);
        }
        c.shardOutputs().forEachBlock(Rows.blockRows(c.outputDim()), (first, n, values) -> {
            if (!allFinite(values, n * c.outputDim())) {
                throw nonFinite(c);
            }
        });
        uploads.add(c);
    }

    private static boolean allFinite(float[] values, int n) {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(values[i])) {
                return false;
            }
        }
        return true;
    }

    private static UserException nonFinite(Contribution c) {
        return new UserException("participant " + c.participant() + " (" + c.prior().prior()
                + ") uploaded a non-finite output; its prior is unusable on this data");
    }

    /** What was uploaded, in participant order. */
    List<Contribution> uploads() {
        List<Contribution> sorted = new ArrayList<>(uploads);
        sorted.sort((a, b) -> Integer.compare(a.participant(), b.participant()));
        return sorted;
    }
}
