package ai.coopt.collab;

import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;

/**
 * The open data platform of CoOpt: it splits the data (phase 1), hands each participant its shard
 * and the shared subset, and collects what they upload (phase 4). The in-process platform and the
 * networked service implement the same interface.
 */
public interface Platform {
    /** Phase 1: the K disjoint shards and the shared subset S. */
    ShardPlan plan();

    /** The images of shard {@code k}. */
    ImageSet shard(int k);

    /** The images of the shared subset S, in the order of {@code plan().shared()}. */
    ImageSet shared();

    /** Phase 4: a participant's upload, checked for shape and finiteness. */
    void upload(Contribution contribution);
}
