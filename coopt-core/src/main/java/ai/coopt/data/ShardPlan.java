package ai.coopt.data;

/**
 * How a dataset of n samples is distributed among K participants (CoOpt's distribution phase):
 * K disjoint shards that together cover every index, plus a shared subset S that every
 * participant processes in addition to its shard (for alignment). S is drawn from all n
 * indices, so it overlaps the shards.
 *
 * @param shards one sorted array of sample indices per participant; sizes differ by at most one
 * @param shared the shared subset's sample indices, sorted
 * @param seed   the seed the plan was drawn with
 */
public record ShardPlan(int[][] shards, int[] shared, long seed) {

    /** The number of participants. */
    public int participants() {
        return shards.length;
    }

    /** The number of samples in the whole dataset. */
    public int total() {
        int n = 0;
        for (int[] shard : shards) {
            n += shard.length;
        }
        return n;
    }

    /** Participant k's shard (not a copy). */
    public int[] shard(int k) {
        return shards[k];
    }
}
