package ai.coopt.data;

import ai.coopt.UserException;

import java.util.Arrays;
import java.util.SplittableRandom;

import static ai.coopt.Setting.SHARED_COUNT;

/** Draws {@link ShardPlan}s: a random split of the data among participants and a shared subset. */
public final class Sharding {
    private Sharding() {
    }

    /**
     * A plan whose shared subset holds round(n × sharedFraction) samples.
     *
     * @throws UserException when k is not in [1, n], the fraction is not strictly between 0 and 1,
     *                       or it gives no sample at all for this n
     */
    public static ShardPlan plan(int n, int k, double sharedFraction, long seed) {
        checkParticipants(n, k);
        if (!(sharedFraction > 0 && sharedFraction < 1)) {
            throw new UserException("shared fraction must be strictly between 0 and 1, got " + sharedFraction);
        }
        long count = Math.round(n * sharedFraction);
        if (count < 1) {
            throw new UserException(names -> "shared fraction " + sharedFraction + " of " + n + " samples gives "
                    + (n * sharedFraction) + " samples, which rounds to 0; set the size directly with "
                    + names.of(SHARED_COUNT));
        }
        return plan(n, k, (int) count, seed);
    }

    /**
     * A plan with a shared subset of exactly {@code sharedCount} samples.
     *
     * @throws UserException when k is not in [1, n] or sharedCount is not in [1, n]
     */
    public static ShardPlan plan(int n, int k, int sharedCount, long seed) {
        checkParticipants(n, k);
        if (sharedCount < 1 || sharedCount > n) {
            throw new UserException("shared count must be between 1 and the number of samples (" + n
                    + "), got " + sharedCount);
        }
        int[] permutation = Randomness.permutationPrefix(n, n, new SplittableRandom(Randomness.mix(seed, Randomness.SHARDS, n, k)));
        int[][] shards = new int[k][];
        int base = n / k;
        int larger = n % k;
        int from = 0;
        for (int s = 0; s < k; s++) {
            int size = base + (s < larger ? 1 : 0);
            shards[s] = Arrays.copyOfRange(permutation, from, from + size);
            Arrays.sort(shards[s]);
            from += size;
        }
        int[] shared = Randomness.permutationPrefix(n, sharedCount,
                new SplittableRandom(Randomness.mix(seed, Randomness.SHARED, n, sharedCount)));
        Arrays.sort(shared);
        return new ShardPlan(shards, shared, seed);
    }

    /** Every participant needs at least one sample: the first thing a plan checks. */
    private static void checkParticipants(int n, int k) {
        if (k < 1) {
            throw new UserException("number of participants must be at least 1, got " + k);
        }
        if (k > n) {
            throw new UserException("cannot split " + n + " samples among " + k
                    + " participants: each needs at least one sample");
        }
    }
}
