package ai.coopt.util;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SubsetsTest {
    @Test
    void subsetIsSeededSortedAndCapped() {
        int[] a = Subsets.random(100, 10, 1);
        assertArrayEquals(a, Subsets.random(100, 10, 1));
        assertEquals(10, a.length);
        for (int i = 1; i < a.length; i++) {
            assertTrue(a[i] > a[i - 1]);
        }
        assertEquals(5, Subsets.random(5, 1000, 1).length);
    }
}
