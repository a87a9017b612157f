package ai.coopt.platform.db;

/**
 * A shard as a round is created with it.
 *
 * @param shard  its number, 0..K-1
 * @param images how many images it has
 * @param sha256 lowercase hex sha256 of the shard's packed file
 */
public record NewShard(int shard, int images, String sha256) {
}
