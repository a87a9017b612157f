package ai.coopt.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Reproducible randomness for the data path: independent 64-bit seeds derived from a user seed
 * and a few coordinates (purpose, epoch, position), so every random stream is reproducible and
 * independent of thread scheduling.
 */
public final class Randomness {
    /** Purpose tags: keep the streams for different uses apart even for equal coordinates. */
    static final long SHUFFLE = 0x53485546464c45L;
    static final long SUBSET = 0x535542534554L;
    static final long AUGMENT = 0x4155474d454e54L;
    static final long SHARDS = 0x534841524453L;
    static final long SHARED = 0x534841524544L;

    private Randomness() {
    }

    /** A well-mixed seed for the coordinates (seed, purpose, a, b). */
    static long mix(long seed, long purpose, long a, long b) {
        long h = avalanche(seed ^ 0x9E3779B97F4A7C15L);
        h = avalanche(h ^ purpose);
        h = avalanche(h ^ (a * 0xC2B2AE3D27D4EB4FL));
        return avalanche(h ^ (b * 0x165667B19E3779F9L));
    }

    /** The first m entries of a Fisher–Yates shuffle of 0..n-1: a random m-subset in random order. */
    public static int[] permutationPrefix(int n, int m, java.util.random.RandomGenerator rng) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = 0; i < m; i++) {
            int j = i + rng.nextInt(n - i);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return m == n ? a : Arrays.copyOf(a, m);
    }

    /** The SplitMix64 finaliser: every input bit affects every output bit. */
    private static long avalanche(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
