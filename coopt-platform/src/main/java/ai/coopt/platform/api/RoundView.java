package ai.coopt.platform.api;

/** What {@code GET /v1/round} answers: the current round, its data and its shared subset. */
public record RoundView(int round, String data, String split, int limit, long limitSeed, Integer imageSize, int count,
                        int shards, long[] sharedIds, long seed, String fingerprint, String sharedSha256,
                        int sharedCount) {}
