package ai.coopt.data;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardingTest {
    @Test
    void shardsAreDisjointSortedBalancedAndCoverEverything() {
        ShardPlan plan = Sharding.plan(103, 4, 10, 1);
        assertEquals(4, plan.participants());
        assertEquals(103, plan.total());
        boolean[] seen = new boolean[103];
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (int[] shard : plan.shards()) {
            min = Math.min(min, shard.length);
            max = Math.max(max, shard.length);
            for (int k = 0; k < shard.length; k++) {
                assertFalse(seen[shard[k]], "index " + shard[k] + " in two shards");
                seen[shard[k]] = true;
                assertTrue(k == 0 || shard[k - 1] < shard[k]);
            }
        }
        for (boolean s : seen) {
            assertTrue(s);
        }
        assertTrue(max - min <= 1);
        assertEquals(25, min);
        assertFalse(Arrays.equals(plan.shard(0), java.util.stream.IntStream.range(0, 26).toArray()), "shards are random");
    }

    @Test
    void sharedSubsetIsASortedRandomSampleOfAllIndices() {
        ShardPlan plan = Sharding.plan(1000, 3, 0.05, 2);
        int[] shared = plan.shared();
        assertEquals(50, shared.length);
        for (int i = 0; i < shared.length; i++) {
            assertTrue(shared[i] >= 0 && shared[i] < 1000);
            assertTrue(i == 0 || shared[i - 1] < shared[i]);
        }
        assertTrue(shared[shared.length - 1] - shared[0] > 500, "drawn from the whole range");
        assertEquals(2, plan.seed());
    }

    @Test
    void sameSeedSamePlanOtherSeedOtherPlan() {
        ShardPlan a = Sharding.plan(200, 5, 20, 7);
        ShardPlan b = Sharding.plan(200, 5, 20, 7);
        ShardPlan c = Sharding.plan(200, 5, 20, 8);
        assertArrayEquals(a.shards(), b.shards());
        assertArrayEquals(a.shared(), b.shared());
        assertFalse(Arrays.deepEquals(a.shards(), c.shards()));
        assertFalse(Arrays.equals(a.shared(), c.shared()));
    }

    @Test
    void extremeParticipantCounts() {
        ShardPlan one = Sharding.plan(10, 1, 3, 0);
        assertArrayEquals(java.util.stream.IntStream.range(0, 10).toArray(), one.shard(0));
        ShardPlan each = Sharding.plan(10, 10, 10, 0);
        for (int[] shard : each.shards()) {
            assertEquals(1, shard.length);
        }
        assertEquals(10, each.shared().length);
    }

    @Test
    void invalidRequestsAreUserErrors() {
        assertThrows(UserException.class, () -> Sharding.plan(10, 0, 2, 0));
        assertThrows(UserException.class, () -> Sharding.plan(10, 11, 2, 0));
        assertThrows(UserException.class, () -> Sharding.plan(10, 2, 0, 0));
        assertThrows(UserException.class, () -> Sharding.plan(10, 2, 11, 0));
        assertThrows(UserException.class, () -> Sharding.plan(10, 2, 0.0, 0));
        assertThrows(UserException.class, () -> Sharding.plan(10, 2, 1.0, 0));
        assertThrows(UserException.class, () -> Sharding.plan(10, 2, Double.NaN, 0));
        UserException tooFew = assertThrows(UserException.class, () -> Sharding.plan(1000, 2, 0.0001, 0));
        assertTrue(tooFew.getMessage().contains("0.1 samples"), tooFew.getMessage());
        assertTrue(tooFew.settings().contains(ai.coopt.Setting.SHARED_COUNT), tooFew.getMessage());  // FlagsTest: --shared-count
        assertFalse(tooFew.getMessage().contains("\n"));
    }
}
