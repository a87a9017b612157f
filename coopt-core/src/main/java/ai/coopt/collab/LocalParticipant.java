package ai.coopt.collab;

import ai.coopt.data.ImageSet;
import ai.coopt.prior.Prior;
import ai.coopt.prior.Priors;
import ai.coopt.store.Scratch;
import ai.coopt.target.DataOptimization;
import ai.coopt.target.Embedder;
import ai.coopt.target.Uniformity;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;

/**
 * A participant in this process: opens its prior, embeds its shard (into a file of the run's scratch directory,
 * batch by batch) and S (in memory), closes the prior.
 */
public final class LocalParticipant implements Participant {
    private final String prior;
    private final Device device;
    private final int batchSize;
    private final ProgressListener progress;
    private final Scratch scratch;

    public LocalParticipant(String prior, Device device, int batchSize, ProgressListener progress, Scratch scratch) {
        this.prior = prior;
        this.device = device;
        this.batchSize = batchSize;
        this.progress = progress;
        this.scratch = scratch;
    }

    @Override
    public String prior() {
        return prior;
    }

    @Override
    public Contribution optimize(int index, ImageSet shard, long[] shardIds, ImageSet shared) {
        long t0 = System.nanoTime();
        try (Prior p = Priors.open(prior, shard, device)) {
            Embedder embedder = new Embedder(batchSize, 1);
            Embedder.Result onShard = embedder.embed(p, shard, "participant " + index + " (" + p.spec() + ") shard", progress,
                    scratch, "participant" + index);
            Embedder.Result onShared = embedder.embed(p, shared, "participant " + index + " shared subset", progress);
            long u = System.nanoTime();
            double uniformity = Uniformity.value(onShared.values(), onShared.count(), onShared.dim(), Uniformity.DEFAULT_T);
            double uniformitySeconds = (System.nanoTime() - u) / 1e9;
            var description = DataOptimization.participant(p, onShard.adaptation(), uniformity, shared.count(),
                    shardIds.length, shardIds[0], shardIds[shardIds.length - 1]);
            return new Contribution(index, description, p.outputDim(), shardIds, onShard.outputs(), onShared.values(),
                    (System.nanoTime() - t0) / 1e9, uniformitySeconds);
        }
    }
}
