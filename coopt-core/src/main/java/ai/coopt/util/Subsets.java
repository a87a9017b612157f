package ai.coopt.util;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Seeded random subsets of indices. */
public final class Subsets {
    private Subsets() {}

    /** A seeded random subset of {@code min(size, n)} of the indices {@code 0..n-1}, in increasing order. */
    public static int[] random(int n, int size, long seed) {
        int m = Math.min(size, n);
        int[] perm = new int[n];
        Arrays.setAll(perm, i -> i);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < m; i++) {
            int j = i + rng.nextInt(n - i);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int[] subset = Arrays.copyOf(perm, m);
        Arrays.sort(subset);
        return subset;
    }
}
