package ai.coopt.report;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TsneTest {
    /** {@code clusters} isotropic Gaussian clusters (σ = 1) in {@code dim} dimensions, centres 10σ apart on axes. */
    private static double[][] clusters(int clusters, int perCluster, int dim, long seed) {
        Random r = new Random(seed);
        double[][] x = new double[clusters * perCluster][dim];
        for (int i = 0; i < x.length; i++) {
            int c = i / perCluster;
            for (int j = 0; j < dim; j++) {
                x[i][j] = r.nextGaussian() + (j == c ? 10 : 0);
            }
        }
        return x;
    }

    private static double distance(double[] a, double[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) {
            s += (a[k] - b[k]) * (a[k] - b[k]);
        }
        return Math.sqrt(s);
    }

    /** Indices of all other points, nearest first. */
    private static Integer[] byDistance(double[][] x, int i) {
        Integer[] order = new Integer[x.length - 1];
        for (int j = 0, o = 0; j < x.length; j++) {
            if (j != i) {
                order[o++] = j;
            }
        }
        Arrays.sort(order, (a, b) -> Double.compare(distance(x[i], x[a]), distance(x[i], x[b])));
        return order;
    }

    /**
     * Trustworthiness (Venna and Kaski): 1 − penalty for map neighbours that are not input neighbours, weighted by
     * how far down the input ranking they are; 1 is perfect, about 0.5 a random map.
     */
    private static double trustworthiness(double[][] x, double[][] y, int k) {
        int n = x.length;
        double penalty = 0;
        for (int i = 0; i < n; i++) {
            Integer[] inputOrder = byDistance(x, i);
            int[] rank = new int[n];
            for (int r = 0; r < inputOrder.length; r++) {
                rank[inputOrder[r]] = r + 1;
            }
            Integer[] mapOrder = byDistance(y, i);
            for (int r = 0; r < k; r++) {
                penalty += Math.max(0, rank[mapOrder[r]] - k);
            }
        }
        return 1 - 2.0 / (n * k * (2.0 * n - 3 * k - 1)) * penalty;
    }

    @Test
    void wellSeparatedClustersStaySeparatedAndNeighbourhoodsAreKept() {
        int perCluster = 40;
        double[][] x = clusters(4, perCluster, 20, 3);
        double[][] y = Tsne.run(x, Tsne.Settings.of(20, 7)).points();
        assertEquals(x.length, y.length);
        int ownCluster = 0;
        int k = 5;
        for (int i = 0; i < y.length; i++) {
            Integer[] near = byDistance(y, i);
            for (int r = 0; r < k; r++) {
                ownCluster += near[r] / perCluster == i / perCluster ? 1 : 0;
            }
        }
        double purity = ownCluster / (double) (y.length * k);
        assertTrue(purity >= 0.95, "2-D neighbours from the same cluster: " + purity);
        double t = trustworthiness(x, y, k);
        assertTrue(t >= 0.9, "trustworthiness " + t);
        // a map with the points shuffled scores far lower: the measure can fail
        double[][] shuffled = y.clone();
        java.util.Collections.shuffle(Arrays.asList(shuffled), new Random(1));
        assertTrue(trustworthiness(x, shuffled, k) < 0.7);
    }

    @Test
    void sameSeedSameMapOtherSeedOtherMap() {
        double[][] x = clusters(3, 20, 8, 5);
        Tsne.Settings s = Tsne.Settings.of(10, 42).withIterations(300);
        double[][] a = Tsne.run(x, s).points();
        double[][] b = Tsne.run(x, s).points();
        for (int i = 0; i < a.length; i++) {
            assertArrayEquals(a[i], b[i], 0.0);
        }
        double[][] c = Tsne.run(x, Tsne.Settings.of(10, 43).withIterations(300)).points();
        assertFalse(Arrays.equals(a[0], c[0]));
    }

    @Test
    void klDivergenceDecreasesAsTheMapIsOptimised() {
        double[][] x = clusters(3, 30, 10, 9);
        Tsne.Settings s = Tsne.Settings.of(15, 1).withKlEvery(50);
        List<Tsne.Kl> kl = Tsne.run(x, s).kl();
        assertEquals(20, kl.size());
        // against the first, nearly random, map and along the descent after the exaggeration phase
        double first = kl.get(0).value();
        double last = kl.get(kl.size() - 1).value();
        assertTrue(last < 0.5 * first, "KL " + first + " -> " + last);
        for (int i = 0; i < kl.size() - 1; i++) {
            if (kl.get(i).iteration() >= 300) {
                assertTrue(kl.get(i + 1).value() <= kl.get(i).value() + 1e-3, "KL rose: " + kl);
            }
        }
        assertTrue(last > 0, "a KL divergence is never negative");
    }

    @Test
    void duplicatedRowsLandTogetherAndIdenticalRowsStayFinite() {
        double[][] x = clusters(2, 15, 5, 11);
        x[1] = x[0].clone();
        x[2] = x[0].clone();
        double[][] y = Tsne.run(x, Tsne.Settings.of(5, 3)).points();
        double typical = 0;
        for (int i = 0; i < y.length; i++) {
            typical += distance(y[0], y[i]) / y.length;
        }
        assertTrue(distance(y[0], y[1]) < 0.1 * typical && distance(y[0], y[2]) < 0.1 * typical,
                "duplicates apart: " + distance(y[0], y[1]) + " vs typical " + typical);
        double[][] same = new double[10][3];
        for (double[] p : Tsne.run(same, Tsne.Settings.of(3, 3).withIterations(200)).points()) {
            assertTrue(Double.isFinite(p[0]) && Double.isFinite(p[1]));
        }
    }

    @Test
    void tooFewPointsForThePerplexityOrBadInputAreRefused() {
        double[][] x = clusters(2, 10, 4, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tsne.run(x, Tsne.Settings.of(30, 0)));
        assertTrue(e.getMessage().contains("(N - 1) / 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tsne.run(new double[3][2], Tsne.Settings.of(1, 0)));
        x[4][1] = Double.NaN;
        assertThrows(IllegalArgumentException.class, () -> Tsne.run(x, Tsne.Settings.of(5, 0)));
        // TargetMap lowers the perplexity to what N allows instead
        List<float[]> rows = new java.util.ArrayList<>();
        for (double[] row : clusters(2, 5, 3, 4)) {
            float[] f = new float[row.length];
            for (int j = 0; j < row.length; j++) {
                f[j] = (float) row[j];
            }
            rows.add(f);
        }
        assertEquals(10, TargetMap.tsne(rows, 1).length);
    }
}
