package ai.coopt.collab;

/**
 * What a participant needs to know about the round before it starts.
 *
 * @param shards how many shards the data is split into
 * @param sharedIds the shared subset S's sample ids, ascending: every participant embeds them, in this order
 * @param seed the seed the shards and S were drawn with
 * @param fingerprint the fingerprint of the platform's whole split (see {@code ImageSet.fingerprint})
 */
public record RoundInfo(int shards, long[] sharedIds, long seed, String fingerprint) {}
