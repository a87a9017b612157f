package ai.coopt.optimize;

import ai.coopt.UserException;
import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.RandomMatrices_DDRM;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PcaTest {
    private static final double[] VARIANCES = {16, 8, 4, 2, 1, 0.5};

    /** Rows offset + Σ_c √λ_c · z_c · axis_c with standard normal z: principal axes are the columns of {@code axes}. */
    private static Matrix gaussian(int n, DMatrixRMaj axes, double[] variances, long seed) {
        int d = axes.numRows;
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[n * d];
        double[] row = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                row[j] = 3 - j;
            }
            for (int c = 0; c < variances.length; c++) {
                double z = Math.sqrt(variances[c]) * random.nextGaussian();
                for (int j = 0; j < d; j++) {
                    row[j] += z * axes.get(j, c);
                }
            }
            for (int j = 0; j < d; j++) {
                v[i * d + j] = (float) row[j];
            }
        }
        return new Matrix(v, n, d);
    }

    private static DMatrixRMaj rotation(int d, long seed) {
        return RandomMatrices_DDRM.orthogonal(d, d, new Random(seed));
    }

    @Test
    void recoversKnownAxesAndVariances() {
        int d = VARIANCES.length;
        DMatrixRMaj axes = rotation(d, 1);
        Pca pca = Pca.fit(gaussian(50_000, axes, VARIANCES, 2), d);
        double[] w = pca.components();
        double[] explained = pca.explainedVariance();
        for (int c = 0; c < d; c++) {
            double cos = 0;
            for (int j = 0; j < d; j++) {
                cos += w[c * d + j] * axes.get(j, c);
            }
            assertTrue(Math.abs(cos) > 0.999, "component " + c + " |cos| = " + Math.abs(cos));
            assertEquals(VARIANCES[c], explained[c], 0.02 * VARIANCES[c], "eigenvalue " + c);
        }
        assertEquals(d, pca.inputDim());
        assertEquals(1, pca.explainedVarianceRatioSum(), 1e-12);
    }

    @Test
    void transformHasShapeMeanZeroAndDecreasingVariances() {
        int d = VARIANCES.length;
        int n = 20_000;
        Matrix x = gaussian(n, rotation(d, 3), VARIANCES, 4);
        Pca pca = Pca.fit(x, 3);
        Matrix y = pca.transform(x);
        assertEquals(n, y.rows());
        assertEquals(3, y.cols());
        assertEquals(3, pca.k());
        double[] explained = pca.explainedVariance();
        double previous = Double.POSITIVE_INFINITY;
        for (int c = 0; c < 3; c++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += y.values()[i * 3 + c];
            }
            mean /= n;
            double variance = 0;
            for (int i = 0; i < n; i++) {
                double e = y.values()[i * 3 + c] - mean;
                variance += e * e;
            }
            variance /= n - 1;
            assertEquals(0, mean, 1e-4, "column " + c + " mean");
            assertEquals(explained[c], variance, 1e-5 * explained[c], "column " + c + " variance");
            assertTrue(variance < previous, "variances decrease");
            previous = variance;
        }
        double total = Arrays.stream(VARIANCES).sum();
        assertEquals((16 + 8 + 4) / total, pca.explainedVarianceRatioSum(), 0.02);
        assertEquals(Arrays.stream(explained).sum() / pca.totalVariance(), pca.explainedVarianceRatioSum(), 1e-15);
    }

    @Test
    void fullRankRoundTripReconstructsCentredData() {
        int d = 5;
        int n = 2_000;
        Matrix x = gaussian(n, rotation(d, 5), new double[] {9, 4, 1, 0.25, 0.01}, 6);
        Pca pca = Pca.fit(x, d);
        double[] w = pca.components();
        for (int a = 0; a < d; a++) {
            for (int b = 0; b < d; b++) {
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += w[a * d + j] * w[b * d + j];
                }
                assertEquals(a == b ? 1 : 0, dot, 1e-12, "components are orthonormal");
            }
        }
        float[] y = pca.transform(x).values();
        double[] mean = pca.mean();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                double back = 0;
                for (int c = 0; c < d; c++) {
                    back += y[i * d + c] * w[c * d + j];
                }
                assertEquals(x.values()[i * d + j] - mean[j], back, 1e-5);
            }
        }
    }

    /**
     * Why the covariance is accumulated in float64: four orthogonal axes (the rows of a 4 × 4
     * Hadamard matrix / 2) with standard deviations 64, 1, 1/64 and 1/1024 (eigenvalues 4e9 apart)
     * around a mean near 1000. Every value, the mean and the float64 covariance sums are exact
     * dyadic numbers, so the eigenvalues must come out to the decomposition's accuracy. In float32
     * the sums reach ~1e7 (ulp 1) and the smallest axis's contributions (2⁻²² per row) would vanish.
     */
    @Test
    void float64CovarianceResolvesEigenvaluesAcrossNineDecades() {
        double[][] h = {{1, 1, 1, 1}, {1, -1, 1, -1}, {1, 1, -1, -1}, {1, -1, -1, 1}};
        double[] scale = {64, 1, 1.0 / 64, 1.0 / 1024};
        double[] centre = {1000, -1000, 500, 250};
        int replicates = 5_000;
        int n = replicates * 8;
        float[] v = new float[n * 4];
        int row = 0;
        for (int r = 0; r < replicates; r++) {
            for (int a = 0; a < 4; a++) {
                for (int sign = -1; sign <= 1; sign += 2) {
                    for (int j = 0; j < 4; j++) {
                        v[row * 4 + j] = (float) (centre[j] + sign * scale[a] * h[a][j] / 2);
                    }
                    row++;
                }
            }
        }
        Pca pca = Pca.fit(new Matrix(v, n, 4), 4);
        assertArrayEquals(centre, pca.mean(), 0);
        double[] explained = pca.explainedVariance();
        double[] w = pca.components();
        for (int a = 0; a < 4; a++) {
            // each axis: 2 · replicates rows at ±scale along the unit vector h[a] / 2
            double expected = 2.0 * replicates * scale[a] * scale[a] / (n - 1);
            assertEquals(expected, explained[a], 1e-4 * expected, "eigenvalue " + a);
            double cos = 0;
            for (int j = 0; j < 4; j++) {
                cos += w[a * 4 + j] * h[a][j] / 2;
            }
            assertEquals(1, Math.abs(cos), 1e-9, "axis " + a);
        }
    }

    @Test
    void fitAndTransformAreBitForBitRepeatable() {
        int d = 64;
        int n = 3_000;
        double[] variances = new double[d];
        for (int c = 0; c < d; c++) {
            variances[c] = 1.0 / (1 + c);
        }
        Matrix x = gaussian(n, rotation(d, 7), variances, 8);
        Pca first = Pca.fit(x, 32);
        Pca second = Pca.fit(x, 32);
        assertTrue(Arrays.equals(first.mean(), second.mean()));
        assertTrue(Arrays.equals(first.components(), second.components()));
        assertTrue(Arrays.equals(first.explainedVariance(), second.explainedVariance()));
        assertEquals(Double.doubleToRawLongBits(first.totalVariance()), Double.doubleToRawLongBits(second.totalVariance()));
        assertTrue(Arrays.equals(first.transform(x).values(), second.transform(x).values()));

        // several engine blocks: repeatable too, and equal to one block up to rounding
        double[] mean = Pca.mean(x);
        double[] blocked = Pca.covariance(x, mean, 700);
        assertTrue(Arrays.equals(blocked, Pca.covariance(x, mean, 700)));
        double[] whole = Pca.covariance(x, mean, n);
        for (int i = 0; i < d * d; i++) {
            assertEquals(whole[i], blocked[i], 1e-12);
        }
        float[] y = first.transform(x, 700).values();
        assertTrue(Arrays.equals(y, first.transform(x, 700).values()));
        assertArrayEquals(first.transform(x).values(), y, 1e-5f);
    }

    @Test
    void largestEntryOfEveryComponentIsPositive() {
        int d = 16;
        Pca pca = Pca.fit(gaussian(1_000, rotation(d, 9), new double[] {5, 4, 3, 2, 1}, 10), d);
        double[] w = pca.components();
        for (int c = 0; c < d; c++) {
            int largest = 0;
            for (int j = 1; j < d; j++) {
                if (Math.abs(w[c * d + j]) > Math.abs(w[c * d + largest])) {
                    largest = j;
                }
            }
            assertTrue(w[c * d + largest] > 0, "component " + c);
        }
    }

    @Test
    void constantDataHasNoVarianceAndProjectsToZero() {
        float[] v = new float[10 * 3];
        Arrays.fill(v, 2.5f);
        Matrix x = new Matrix(v, 10, 3);
        Pca pca = Pca.fit(x, 2);
        assertEquals(0, pca.totalVariance());
        assertEquals(1, pca.explainedVarianceRatioSum());
        assertArrayEquals(new float[20], pca.transform(x).values());
    }

    @Test
    void rejectsBadArguments() {
        Matrix x = new Matrix(new float[3 * 5], 3, 5);
        assertThrows(IllegalArgumentException.class, () -> Pca.fit(x, 0));
        assertThrows(IllegalArgumentException.class, () -> Pca.fit(x, 4), "k > N");
        assertThrows(IllegalArgumentException.class, () -> Pca.fit(new Matrix(new float[10], 2, 5), 6), "k > D");
        assertThrows(IllegalArgumentException.class, () -> Pca.fit(new Matrix(new float[5], 1, 5), 1), "one row");
        assertThrows(IllegalArgumentException.class, () -> Pca.fit(x, 2).transform(new Matrix(new float[4], 1, 4)));
        float[] v = new float[15];
        v[7] = Float.NaN;
        UserException e = assertThrows(UserException.class, () -> Pca.fit(new Matrix(v, 3, 5), 2));
        assertTrue(e.getMessage().contains("row 1, dimension 2"), e.getMessage());
    }

    @Test
    void rankCountsComponentsWithVarianceAndFirstKeepsTheLeadingOnes() {
        // 50 points in 4-D spanning only a 2-D plane: (a, b, a + b, 0)
        java.util.Random rng = new java.util.Random(9);
        float[] v = new float[50 * 4];
        for (int i = 0; i < 50; i++) {
            float a = (float) rng.nextGaussian();
            float b = (float) rng.nextGaussian();
            v[i * 4] = a;
            v[i * 4 + 1] = b;
            v[i * 4 + 2] = a + b;
        }
        Matrix x = new Matrix(v, 50, 4);
        Pca full = Pca.fit(x, 4);
        org.junit.jupiter.api.Assertions.assertEquals(2, full.rank());
        Pca one = full.first(1);
        org.junit.jupiter.api.Assertions.assertEquals(1, one.k());
        Matrix a = full.transform(x);
        Matrix b = one.transform(x);
        for (int i = 0; i < 50; i++) {
            org.junit.jupiter.api.Assertions.assertEquals(a.values()[i * 4], b.values()[i], 1e-6f);
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> full.first(5));
    }
}
