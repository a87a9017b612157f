package ai.coopt.collab;

import ai.coopt.data.ImageSet;

/** One CoOpt participant: holds a prior and turns the data it is given into raw outputs (phase 2). */
public interface Participant {
    /** The prior spec this participant runs. */
    String prior();

    /**
     * Runs the prior over its shard and over the shared subset.
     *
     * @param shardIds the ids of {@code shard}'s images in the platform's split, in order
     */
    Contribution optimize(int index, ImageSet shard, long[] shardIds, ImageSet shared);
}
