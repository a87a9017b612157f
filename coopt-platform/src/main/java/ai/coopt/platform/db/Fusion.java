package ai.coopt.platform.db;

/**
 * The fusion of the current round.
 *
 * @param state      waiting, running, done or failed
 * @param forced     whether the run (last started) was forced with what was there, not every shard
 * @param detailJson the caller's detail for the last change (e.g. results or the failure), or null
 * @param updatedAt  epoch millis of the last change
 */
public record Fusion(FusionState state, boolean forced, String detailJson, long updatedAt) {
}
