package ai.coopt.collab;

import ai.coopt.data.ImageSet;

/**
 * One CoOpt participant: holds one prior for the whole round and turns the data it is given into raw outputs
 * (phase 2). The prior is opened once, when the participant is made (a random prior takes its input statistics from
 * S, which every participant sees), so every shard the participant optimizes is embedded by the same function.
 */
public interface Participant extends AutoCloseable {
    /** The participant's id on the platform. */
    String id();

    /** Runs the prior over S and computes its uniformity there. */
    SharedOutputs embedShared(ImageSet shared);

    /** Runs the prior over one leased shard. */
    ShardOutputs embedShard(int shard, ImageSet images, long[] ids);

    /** Runs the prior over a few images (an audit's): {@code images.count()} rows of the prior's width, row-major. */
    float[] embedImages(ImageSet images);

    @Override
    void close();
}
