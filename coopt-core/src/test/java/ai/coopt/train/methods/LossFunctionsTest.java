package ai.coopt.train.methods;

import ai.coopt.engine.Engines;
import ai.coopt.train.Losses;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import static ai.coopt.train.methods.ReferenceMath.dot;
import static ai.coopt.train.methods.ReferenceMath.flat;
import static ai.coopt.train.methods.ReferenceMath.anchors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The loss functions the methods add to {@link Losses}, against values worked out by hand. */
class LossFunctionsTest {

    @Test
    void normalizedSquaredErrorIsTwoMinusTwoCosine() {
        Engines.get();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {1, 0, 2, 0, 0, 3}, new Shape(3, 2));
            NDArray b = m.create(new float[] {5, 0, 0, 1, 0, -1}, new Shape(3, 2));
            // rows: cos 1 → 0, cos 0 → 2, cos -1 → 4; mean 2
            assertEquals(2f, Losses.normalizedSquaredError(a, b).getFloat(), 1e-6f);
            assertEquals(0f, Losses.normalizedSquaredError(a, a.mul(7)).getFloat(), 1e-6f);
        }
    }

    @Test
    void swapHalvesExchangesTheTwoViews() {
        Engines.get();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(4, 2));
            assertArrayEquals(new float[] {5, 6, 7, 8, 1, 2, 3, 4}, Losses.swapHalves(x).toFloatArray());
        }
    }

    @Test
    void ntXentMatchesTheFormulaOnTwoPairs() {
        double[][] a = {{1, 2, 0}, {0, -1, 1}};
        double[][] b = {{2, 1, 1}, {1, 0, -2}};
        double tau = 0.5;
        Engines.get();
        try (NDManager m = NDManager.newBaseManager()) {
            float loss = Losses.ntXent(m.create(flat(a), new Shape(2, 3)), m.create(flat(b), new Shape(2, 3)),
                    (float) tau).getFloat();
            assertEquals(ntXent(a, b, tau), loss, 1e-5);
        }
    }

    @Test
    void alignedPairsGiveTheMinimumAndRandomPairsMore() {
        Engines.get();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray identity = m.eye(4);
            float aligned = Losses.ntXent(identity, identity.mul(3), 0.5f).getFloat();
            // each anchor: its positive at cos 1, the 6 other rows at cos 0
            assertEquals(Math.log(1 + 6 * Math.exp(-2)), aligned, 1e-5);
            m.getEngine().setRandomSeed(3);
            float random = Losses.ntXent(m.randomNormal(new Shape(4, 4)), m.randomNormal(new Shape(4, 4)), 0.5f)
                    .getFloat();
            assertTrue(random > aligned + 0.5, random + " vs " + aligned);
        }
    }

    /** NT-Xent written out in doubles: anchors are the rows of a then b, row i's positive is row i±N. */
    private static double ntXent(double[][] a, double[][] b, double tau) {
        int n = a.length;
        double[][] z = anchors(a, b);
        double total = 0;
        for (int i = 0; i < 2 * n; i++) {
            double denominator = 0;
            for (int k = 0; k < 2 * n; k++) {
                if (k != i) {
                    denominator += Math.exp(dot(z[i], z[k]) / tau);
                }
            }
            total += -Math.log(Math.exp(dot(z[i], z[(i + n) % (2 * n)]) / tau) / denominator);
        }
        return total / (2 * n);
    }
}
