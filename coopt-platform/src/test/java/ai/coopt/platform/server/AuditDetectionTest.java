package ai.coopt.platform.server;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How often the audit catches a shard of which a fraction of the rows is poisoned, measured with the platform's own
 * sampler ({@link Auditor#sample}, default settings, a {@link SecureRandom}) over many trials and checked
 * against the exact hypergeometric probability. That a sampled poisoned row fails the audit is the adversarial suite's
 * part; this is the sampling's.
 */
class AuditDetectionTest {
    private static final int TRIALS = 4000;

    /** P(a sample of k rows of n hits at least one of the m poisoned ones) = 1 − C(n−m, k) / C(n, k). */
    static double exact(int n, int m, int k) {
        double miss = 1;
        for (int i = 0; i < k; i++) {
            miss *= (double) (n - m - i) / (n - i);
            if (miss <= 0) {
                return 1;
            }
        }
        return 1 - miss;
    }

    @Test
    void detectionRateAgainstThePoisonedFractionMatchesTheHypergeometricLaw() {
        SecureRandom random = new SecureRandom();
        PlatformConfig.Audits audits = PlatformConfig.Audits.DEFAULT;
        long[] shared = new long[600];
        for (int i = 0; i < shared.length; i++) {
            shared[i] = 1_000_000 + i;
        }
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "audit detection, %d rows of the shard + %d of S per audit, %d trials each%n", audits.rows(),
                audits.sharedRows(), TRIALS));
        for (int n : new int[] {1_000, 10_000}) {
            long[] rows = new long[n];
            for (int i = 0; i < n; i++) {
                rows[i] = i;
            }
            for (double fraction : new double[] {0.01, 0.05, 0.20}) {
                int poisoned = (int) Math.round(fraction * n);
                int caught = 0;
                for (int t = 0; t < TRIALS; t++) {
                    Set<Long> bad = new HashSet<>();
                    for (int r : ai.coopt.data.Randomness.permutationPrefix(n, poisoned, random)) {
                        bad.add((long) r);
                    }
                    for (long id : Auditor.sample(rows, shared, audits, random)) {
                        if (bad.contains(id)) {
                            caught++;
                            break;
                        }
                    }
                }
                double rate = (double) caught / TRIALS;
                double expected = exact(n, poisoned, Math.min(n, audits.rows()));
                double sigma = Math.sqrt(expected * (1 - expected) / TRIALS);
                table.append(String.format(Locale.ROOT, "  shard of %,6d rows, %4.0f%% poisoned: caught %6.2f%% (exact %6.2f%%)%n",
                        n, 100 * fraction, 100 * rate, 100 * expected));
                assertTrue(Math.abs(rate - expected) <= 5 * sigma + 1e-9, table.toString());
            }
        }
        System.out.print(table);
    }
}
