package ai.coopt.optimize;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StandardizationTest {
    private static Matrix random(int n, int d, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                v[i * d + j] = (float) (100 * j - 50 + (j + 0.5) * 3 * random.nextGaussian());
            }
        }
        return new Matrix(v, n, d);
    }

    @Test
    void everyColumnGetsMeanZeroAndUnitStd() {
        int n = 5_000;
        int d = 6;
        Matrix x = random(n, d, 1);
        Standardization.standardize(x);
        for (int j = 0; j < d; j++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += x.values()[i * d + j];
            }
            mean /= n;
            double variance = 0;
            for (int i = 0; i < n; i++) {
                double c = x.values()[i * d + j] - mean;
                variance += c * c;
            }
            assertEquals(0, mean, 1e-6, "column " + j + " mean");
            assertEquals(1, Math.sqrt(variance / n), 1e-6, "column " + j + " std");
        }
    }

    @Test
    void statisticsMatchHandComputation() {
        // column 0: 1, 2, 3, 4 → mean 2.5, population variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
        // column 1: constant 7.5 → only centred, std recorded as 1
        Matrix x = new Matrix(new float[] {1, 7.5f, 2, 7.5f, 3, 7.5f, 4, 7.5f}, 4, 2);
        Standardization s = Standardization.standardize(x);
        assertArrayEquals(new double[] {2.5, 7.5}, s.mean(), 0);
        assertArrayEquals(new double[] {Math.sqrt(1.25), 1}, s.std(), 1e-15);
        float r = (float) Math.sqrt(1.25);
        assertArrayEquals(new float[] {-1.5f / r, 0, -0.5f / r, 0, 0.5f / r, 0, 1.5f / r, 0}, x.values(), 1e-6f);
    }

    @Test
    void appliesFittedStatisticsToOtherRows() {
        // column 0: 0, 2 → mean 1, std 1; column 1: 10, 30 → mean 20, std 10
        Matrix fitted = new Matrix(new float[] {0, 10, 2, 30}, 2, 2);
        Standardization s = Standardization.fit(fitted);
        assertArrayEquals(new float[] {0, 10, 2, 30}, fitted.values(), "fit alone leaves the data as is");
        Matrix other = new Matrix(new float[] {3, 50}, 1, 2);
        s.apply(other);
        assertArrayEquals(new float[] {2, 3}, other.values(), 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> s.apply(new Matrix(new float[3], 1, 3)));
        assertThrows(IllegalArgumentException.class, () -> Standardization.fit(new Matrix(new float[0], 0, 2)));
    }

    @Test
    void isDeterministic() {
        Matrix a = random(2_000, 16, 2);
        Matrix b = new Matrix(a.values().clone(), a.rows(), a.cols());
        Standardization sa = Standardization.standardize(a);
        Standardization sb = Standardization.standardize(b);
        assertTrue(Arrays.equals(sa.mean(), sb.mean()));
        assertTrue(Arrays.equals(sa.std(), sb.std()));
        assertTrue(Arrays.equals(a.values(), b.values()));
    }
}
