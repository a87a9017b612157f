package ai.coopt.collab;

import ai.coopt.store.ManifestProvenance;

/**
 * What a participant uploads (phase 4): its prior's raw outputs on its shard and on the shared
 * subset S, the prior's description, and how long optimization took.
 *
 * @param shardIds the shard's sample ids (indices into the split), one per row of {@code shardOutputs}
 * @param shardOutputs {@code shardIds.length × outputDim}, row-major
 * @param sharedOutputs {@code |S| × outputDim} in the order of the platform's shared ids
 * @param seconds the whole optimization, uniformity included
 * @param uniformitySeconds computing the prior's uniformity on S (part of {@code seconds})
 */
public record Contribution(int participant, ManifestProvenance.Participant prior, int outputDim, long[] shardIds,
                           float[] shardOutputs, float[] sharedOutputs, double seconds, double uniformitySeconds) {}
