package ai.coopt.collab;

import ai.coopt.engine.Precision;
import ai.coopt.data.ImageSet;
import ai.coopt.optimize.DataOptimization;
import ai.coopt.optimize.Embedder;
import ai.coopt.optimize.Uniformity;
import ai.coopt.prior.Prior;
import ai.coopt.prior.Priors;
import ai.coopt.store.Scratch;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;

/**
 * A participant whose prior runs in this process: embeds S in memory and each shard batch by batch into a file of
 * the scratch directory. Used by {@code coopt collab} (one per prior) and by {@code coopt participant run}.
 */
public final class LocalParticipant implements Participant {
    private final String id;
    private final Prior prior;
    private final Embedder embedder;
    private final ProgressListener progress;
    private final Scratch scratch;
    private String adaptation;

    /**
     * Opens the prior for the data of {@code shared} (the shards have the same image shape).
     *
     * @param scratch where shard outputs are written (the caller's; the files live as long as it does)
     */
    public LocalParticipant(String id, String priorSpec, ImageSet shared, Device device, int batchSize,
                            ProgressListener progress, Scratch scratch) {
        this(id, priorSpec, shared, device, Precision.FP32, batchSize, progress, scratch);
    }

    /** As above, the prior computing in {@code precision} where it can. */
    public LocalParticipant(String id, String priorSpec, ImageSet shared, Device device, Precision precision,
                            int batchSize, ProgressListener progress, Scratch scratch) {
        this.id = id;
        this.prior = Priors.open(priorSpec, shared, device, precision);
        this.embedder = new Embedder(batchSize, 1);
        this.progress = progress;
        this.scratch = scratch;
    }

    @Override
    public String id() {
        return id;
    }

    /** The opened prior's weights checksum. */
    public String weightsSha256() {
        return prior.weightsSha256();
    }

    /** The opened prior's spec. */
    public String prior() {
        return prior.spec();
    }

    @Override
    public SharedOutputs embedShared(ImageSet shared) {
        long t0 = System.nanoTime();
        Embedder.Result onShared = embedder.embed(prior, shared, id + " (" + prior.spec() + ") shared subset", progress);
        long u = System.nanoTime();
        double uniformity = Uniformity.ofOutputs(onShared.values(), onShared.count(), onShared.dim());
        double uniformitySeconds = (System.nanoTime() - u) / 1e9;
        adaptation = onShared.adaptation();
        PriorReport report = new PriorReport(prior.spec(), prior.kind(), prior.weightsSha256(),
                DataOptimization.input(prior, adaptation), prior.outputDim(), uniformity, shared.count(),
                prior.precision().label());
        return new SharedOutputs(id, report, onShared.values(), (System.nanoTime() - t0) / 1e9, uniformitySeconds);
    }

    @Override
    public ShardOutputs embedShard(int shard, ImageSet images, long[] ids) {
        if (images.count() != ids.length) {
            throw new IllegalArgumentException(images.count() + " images for " + ids.length + " ids");
        }
        long t0 = System.nanoTime();
        Embedder.Result out = embedder.embed(prior, images, id + " (" + prior.spec() + ") shard " + shard, progress,
                scratch, id + "-shard" + shard);
        return new ShardOutputs(id, shard, ids, out.outputs(), (System.nanoTime() - t0) / 1e9);
    }

    @Override
    public float[] embedImages(ImageSet images) {
        return embedder.embed(prior, images, id + " (" + prior.spec() + ") audit", ProgressListener.NONE).values();
    }

    @Override
    public void close() {
        prior.close();
    }
}
