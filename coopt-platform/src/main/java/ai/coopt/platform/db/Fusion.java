package ai.coopt.platform.db;

/**
 * The fusion of the current round.
 *
 * @param state       waiting, running, done or failed
 * @param forced      whether the run (last started) was forced with what was there, not every shard
 * @param detailJson  the caller's detail for the last change (e.g. results or the failure), or null
 * @param updatedAt   epoch millis of the last change
 * @param owner       the instance id of the process that runs (or last ran) fusion, or null before any run
 * @param heartbeatAt while running: epoch millis of its owner's last heartbeat; otherwise null
 */
public record Fusion(FusionState state, boolean forced, String detailJson, long updatedAt, String owner, Long heartbeatAt) {
}
