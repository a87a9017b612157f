package ai.coopt.collab;

import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.Rows;

/**
 * What a participant uploads (phase 4): its prior's raw outputs on its shard and on the shared
 * subset S, the prior's description, and how long optimization took.
 *
 * @param shardIds the shard's sample ids (indices into the split), ascending, one per row of {@code shardOutputs}
 * @param shardOutputs {@code shardIds.length} rows of {@code outputDim}: on disk for a shard of any size
 * @param sharedOutputs {@code |S| × outputDim} in the order of the platform's shared ids
 * @param seconds the whole optimization, uniformity included
 * @param uniformitySeconds computing the prior's uniformity on S (part of {@code seconds})
 */
public record Contribution(int participant, ManifestProvenance.Participant prior, int outputDim, long[] shardIds,
                           Rows shardOutputs, float[] sharedOutputs, double seconds, double uniformitySeconds) {}
