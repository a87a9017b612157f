package ai.coopt.optimize;

import ai.coopt.UserException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UniformityTest {
    @Test
    void matchesHandComputedThreePoints() {
        // (2, 0), (0, 3), (-0.5, 0) normalise to (1, 0), (0, 1), (-1, 0).
        // Squared distances: |(1,0) - (0,1)|² = 1 + 1 = 2; |(1,0) - (-1,0)|² = 2² = 4; |(0,1) - (-1,0)|² = 2.
        // With t = 2: V = log((e^-4 + e^-8 + e^-4) / 3).
        float[] x = {2, 0, 0, 3, -0.5f, 0};
        double expected = Math.log((2 * Math.exp(-4) + Math.exp(-8)) / 3);
        assertEquals(expected, Uniformity.value(x, 3, 2, Uniformity.DEFAULT_T), 1e-14);
    }

    @Test
    void antipodalPairReachesTheLowerBound() {
        // one pair at squared distance 4: V = log(e^(-4t)) = -4t
        assertEquals(-4 * 0.5, Uniformity.value(new float[] {0, 1, 0, -3}, 2, 2, 0.5), 1e-15);
    }

    @Test
    void identicalPointsGiveZero() {
        float[] x = new float[5 * 3];
        for (int i = 0; i < 5; i++) {
            x[i * 3] = 0.3f;
            x[i * 3 + 1] = -1.2f;
            x[i * 3 + 2] = 2f;
        }
        assertEquals(0, Uniformity.value(x, 5, 3, 2));
    }

    @Test
    void spreadPointsAreMoreUniformThanClusteredOnes() {
        int n = 12;
        float[] circle = new float[2 * n];
        float[] cluster = new float[2 * n];
        for (int i = 0; i < n; i++) {
            double spread = 2 * Math.PI * i / n;
            double near = 0.2 * i / n;
            circle[2 * i] = (float) Math.cos(spread);
            circle[2 * i + 1] = (float) Math.sin(spread);
            cluster[2 * i] = (float) Math.cos(near);
            cluster[2 * i + 1] = (float) Math.sin(near);
        }
        double spreadValue = Uniformity.value(circle, n, 2, 2);
        double clusteredValue = Uniformity.value(cluster, n, 2, 2);
        assertTrue(spreadValue < clusteredValue, spreadValue + " should be below " + clusteredValue);
    }

    @Test
    void matchesDirectPairwiseComputationAndIgnoresScale() {
        int n = 50;
        int d = 7;
        SplittableRandom random = new SplittableRandom(5);
        float[] x = new float[n * d];
        float[] scaled = new float[n * d];
        for (int i = 0; i < n; i++) {
            float factor = (float) (0.1 + 10 * random.nextDouble());
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) random.nextGaussian();
                scaled[i * d + j] = x[i * d + j] * factor;
            }
        }
        for (double t : new double[] {0.5, 2, 8}) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    double ni = norm(x, i, d);
                    double nj = norm(x, j, d);
                    double squared = 0;
                    for (int c = 0; c < d; c++) {
                        double diff = x[i * d + c] / ni - x[j * d + c] / nj;
                        squared += diff * diff;
                    }
                    sum += Math.exp(-t * squared);
                }
            }
            double expected = Math.log(sum / (n * (n - 1) / 2.0));
            assertEquals(expected, Uniformity.value(x, n, d, t), 1e-12, "t = " + t);
            assertEquals(expected, Uniformity.value(scaled, n, d, t), 1e-6, "scale invariance, t = " + t);
        }
    }

    @Test
    void isDeterministicAtPriorScoringSize() {
        int n = 1_000;
        int d = 512;
        SplittableRandom random = new SplittableRandom(6);
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        double first = Uniformity.value(x, n, d, 2);
        assertEquals(Double.doubleToRawLongBits(first), Double.doubleToRawLongBits(Uniformity.value(x, n, d, 2)));
        assertTrue(first < 0 && first >= -8);
    }

    /**
     * A prior's outputs are ranked centred: a spread-out set pushed far from the origin (a cone, like ReLU features)
     * keeps its value, and outranks a set collapsed onto one direction that happens to sit around the origin, which
     * the uncentred value prefers.
     */
    @Test
    void priorsAreRankedOnCentredOutputsSoAnOffsetDoesNotHideTheSpread() {
        int n = 200;
        int d = 8;
        SplittableRandom random = new SplittableRandom(11);
        float[] spread = new float[n * d];
        float[] shifted = new float[n * d];
        float[] collapsed = new float[n * d];
        for (int i = 0; i < n; i++) {
            double along = random.nextGaussian();
            for (int j = 0; j < d; j++) {
                spread[i * d + j] = (float) random.nextGaussian();
                shifted[i * d + j] = spread[i * d + j] + 10;
                collapsed[i * d + j] = (float) ((j == 0 ? along : 0) + 0.01 * random.nextGaussian());
            }
        }
        assertEquals(Uniformity.ofOutputs(spread, n, d), Uniformity.ofOutputs(shifted, n, d), 1e-5,
                "a shift of every output changes nothing");
        assertTrue(Uniformity.value(shifted, n, d, 2) > Uniformity.value(collapsed, n, d, 2),
                "uncentred, the shifted cone looks less uniform than a collapse onto one axis");
        assertTrue(Uniformity.ofOutputs(shifted, n, d) < Uniformity.ofOutputs(collapsed, n, d) - 1,
                "centred, the spread set is the more uniform by far: " + Uniformity.ofOutputs(shifted, n, d) + " vs "
                        + Uniformity.ofOutputs(collapsed, n, d));
        float[] before = shifted.clone();
        Uniformity.ofOutputs(shifted, n, d);
        assertArrayEquals(before, shifted, "the outputs are not changed");
        assertThrows(UserException.class, () -> Uniformity.ofOutputs(new float[] {1, 0, Float.NaN, 1}, 2, 2));
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> Uniformity.value(new float[] {1, 0}, 1, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> Uniformity.value(new float[] {1, 0, 0}, 2, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> Uniformity.value(new float[] {1, 0, 0, 1}, 2, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> Uniformity.value(new float[] {1, 0, 0, 1}, 2, 2, Double.NaN));
        assertThrows(UserException.class, () -> Uniformity.value(new float[] {1, 0, Float.NaN, 1}, 2, 2, 2));
    }

    private static double norm(float[] x, int row, int d) {
        double s = 0;
        for (int c = 0; c < d; c++) {
            s += (double) x[row * d + c] * x[row * d + c];
        }
        return Math.sqrt(s);
    }
}
