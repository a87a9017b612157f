package ai.coopt.platform.db;

/**
 * A shard of the current round as the platform sees it. The lease id is not part of it (only its holder
 * learns it, from {@link LeaseRepository#lease}).
 *
 * @param shard          its number
 * @param images         image count
 * @param sha256         sha256 of its packed file
 * @param state          open, leased or accepted
 * @param leaseHolder    participant id while leased, else null
 * @param leaseExpires   epoch millis while leased (it may lie in the past: an expired lease that nobody took over), else null
 * @param acceptedUpload the accepted upload's id once accepted, else null
 */
public record Shard(int shard, int images, String sha256, ShardState state, String leaseHolder, Long leaseExpires,
                    Long acceptedUpload) {
}
