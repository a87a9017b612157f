package ai.coopt.collab;

import ai.coopt.store.ManifestProvenance;

import java.util.Objects;

/**
 * A participant's prior as the platform records it: what the manifest says about the prior, without the shards
 * (a participant may optimize several, and the platform knows which). Sent with the outputs on the shared subset.
 *
 * @param uniformity the prior's uniformity on S (lower = more uniform); the most uniform prior is the reference
 * @param uniformitySubset how many samples of S the uniformity was computed on
 */
public record PriorReport(String prior, String kind, String weightsSha256, ManifestProvenance.Input input, int outputDim,
                          double uniformity, int uniformitySubset) {
    public PriorReport {
        // the manifest's own checks, with a stand-in shard, so a bad report is refused where it arrives
        new ManifestProvenance.Participant(prior, kind, weightsSha256, Objects.requireNonNull(input, "input"), outputDim,
                uniformity, uniformitySubset, new ManifestProvenance.Shard(1, 0, 0));
    }

    /** The manifest's entry for this prior over the shards it optimized. */
    public ManifestProvenance.Participant participant(ManifestProvenance.Shard shards) {
        return new ManifestProvenance.Participant(prior, kind, weightsSha256, input, outputDim, uniformity,
                uniformitySubset, shards);
    }
}
