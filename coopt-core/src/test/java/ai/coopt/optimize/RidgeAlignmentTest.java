package ai.coopt.optimize;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RidgeAlignmentTest {
    private static Matrix gaussian(int n, int d, double scale, double offset, SplittableRandom random) {
        float[] v = new float[n * d];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (offset + scale * random.nextGaussian());
        }
        return new Matrix(v, n, d);
    }

    /** x · a + b + noise · N(0, 1), with a p × q and b of length q. */
    private static Matrix linear(Matrix x, double[] a, double[] b, double noise, SplittableRandom random) {
        int p = x.cols();
        int q = b.length;
        float[] y = new float[x.rows() * q];
        for (int i = 0; i < x.rows(); i++) {
            for (int j = 0; j < q; j++) {
                double sum = b[j] + noise * random.nextGaussian();
                for (int k = 0; k < p; k++) {
                    sum += x.values()[i * p + k] * a[k * q + j];
                }
                y[i * q + j] = (float) sum;
            }
        }
        return new Matrix(y, x.rows(), q);
    }

    private static double[] randomArray(int n, SplittableRandom random) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextGaussian();
        }
        return a;
    }

    private static double squaredError(Matrix a, Matrix b) {
        double sum = 0;
        for (int i = 0; i < a.values().length; i++) {
            double d = a.values()[i] - b.values()[i];
            sum += d * d;
        }
        return sum;
    }

    private static double maxAbsError(Matrix a, Matrix b) {
        double max = 0;
        for (int i = 0; i < a.values().length; i++) {
            max = Math.max(max, Math.abs(a.values()[i] - b.values()[i]));
        }
        return max;
    }

    @Test
    void exactLinearRelationIsRecoveredWithATinyLambda() {
        SplittableRandom random = new SplittableRandom(1);
        int p = 5;
        int q = 3;
        double[] a = randomArray(p * q, random);
        double[] b = {3, -7, 0.5};
        Matrix train = gaussian(200, p, 2, 1, random);
        Matrix test = gaussian(100, p, 2, 1, random);
        RidgeAlignment alignment = RidgeAlignment.fit(train, linear(train, a, b, 0, random));
        assertEquals(p, alignment.sourceDim());
        assertEquals(q, alignment.targetDim());
        assertTrue(maxAbsError(alignment.apply(test), linear(test, a, b, 0, random)) < 1e-3);
        assertTrue(alignment.lambda() <= 1e-3 * alignment.scale(), "λ " + alignment.lambda() + ", s " + alignment.scale());
        assertTrue(alignment.relativeResidual() < 1e-4);
        assertEquals(p, alignment.effectiveDof(), 1e-2);
    }

    @Test
    void gcvChoiceIsCloseToTheBestLambdaOnHeldOutData() {
        SplittableRandom random = new SplittableRandom(2);
        int p = 30;
        int q = 8;
        double[] a = randomArray(p * q, random);
        double[] b = randomArray(q, random);
        Matrix train = gaussian(60, p, 1, 0, random);
        Matrix trainY = linear(train, a, b, 4, random);
        Matrix test = gaussian(2_000, p, 1, 0, random);
        Matrix testY = linear(test, a, b, 4, random);

        RidgeAlignment chosen = RidgeAlignment.fit(train, trainY);
        double best = Double.POSITIVE_INFINITY;
        for (double lambda : RidgeAlignment.lambdaGrid(chosen.scale())) {
            best = Math.min(best, squaredError(RidgeAlignment.fit(train, trainY, lambda).apply(test), testY));
        }
        double error = squaredError(chosen.apply(test), testY);
        assertTrue(error <= 1.05 * best, "GCV error " + error + ", best on the grid " + best);
        assertTrue(chosen.lambda() > 1e-3 * chosen.scale(), "noise should call for real shrinkage");
    }

    @Test
    void fewerSamplesThanDimensionsIsRegularised() {
        SplittableRandom random = new SplittableRandom(3);
        int p = 64;
        int q = 16;
        Matrix train = gaussian(20, p, 1, 0, random);
        Matrix trainY = linear(train, randomArray(p * q, random), randomArray(q, random), 0.5, random);
        RidgeAlignment alignment = RidgeAlignment.fit(train, trainY);
        assertTrue(alignment.lambda() > 0);
        assertTrue(alignment.effectiveDof() < 20);
        assertTrue(alignment.relativeResidual() >= 0 && alignment.relativeResidual() < 1,
                "residual " + alignment.relativeResidual());
        assertTrue(Double.isFinite(alignment.gcvScore()));
        Matrix out = alignment.apply(gaussian(50, p, 1, 0, random));
        assertEquals(50, out.rows());
        assertEquals(q, out.cols());
        for (float value : out.values()) {
            assertTrue(Float.isFinite(value));
        }
    }

    @Test
    void identicalSpacesAlignWithASmallResidual() {
        SplittableRandom random = new SplittableRandom(4);
        Matrix x = gaussian(100, 8, 3, -2, random);
        RidgeAlignment alignment = RidgeAlignment.fit(x, x);
        assertTrue(alignment.relativeResidual() < 1e-4, "residual " + alignment.relativeResidual());
        Matrix test = gaussian(20, 8, 3, -2, random);
        assertTrue(maxAbsError(alignment.apply(test), test) < 1e-3);
    }

    @Test
    void fittingTwiceGivesTheSameBits() {
        SplittableRandom random = new SplittableRandom(5);
        Matrix x = gaussian(40, 24, 1, 0.5, random);
        Matrix y = linear(x, randomArray(24 * 6, random), randomArray(6, random), 1, random);
        Matrix rows = gaussian(30, 24, 1, 0, random);
        RidgeAlignment first = RidgeAlignment.fit(x, y);
        RidgeAlignment second = RidgeAlignment.fit(x, y);
        assertEquals(first.lambda(), second.lambda());
        assertEquals(first.gcvScore(), second.gcvScore());
        assertArrayEquals(first.apply(rows).values(), second.apply(rows).values());
    }

    @Test
    void badArgumentsAreRejected() {
        SplittableRandom random = new SplittableRandom(6);
        Matrix x = gaussian(10, 4, 1, 0, random);
        Matrix y = gaussian(10, 2, 1, 0, random);
        assertThrows(IllegalArgumentException.class,
                () -> RidgeAlignment.fit(gaussian(2, 4, 1, 0, random), gaussian(2, 2, 1, 0, random)));
        assertThrows(IllegalArgumentException.class, () -> RidgeAlignment.fit(x, gaussian(9, 2, 1, 0, random)));
        Matrix nan = gaussian(10, 4, 1, 0, random);
        nan.values()[13] = Float.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RidgeAlignment.fit(nan, y));
        assertTrue(e.getMessage().contains("row 3, dimension 1"), e.getMessage());
        Matrix infinite = gaussian(10, 2, 1, 0, random);
        infinite.values()[0] = Float.POSITIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> RidgeAlignment.fit(x, infinite));
        assertThrows(IllegalArgumentException.class, () -> RidgeAlignment.fit(new Matrix(new float[40], 10, 4), y));
        assertThrows(IllegalArgumentException.class, () -> RidgeAlignment.fit(x, y).apply(gaussian(3, 5, 1, 0, random)));
    }
}
