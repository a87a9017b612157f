package ai.coopt.train.methods;

import ai.coopt.engine.Engines;
import ai.coopt.train.Losses;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static ai.coopt.train.methods.ReferenceMath.anchors;
import static ai.coopt.train.methods.ReferenceMath.dot;
import static ai.coopt.train.methods.ReferenceMath.flat;
import static ai.coopt.train.methods.ReferenceMath.logSumExp;
import static ai.coopt.train.methods.ReferenceMath.scaled;
import static ai.coopt.train.methods.ReferenceMath.unit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The self-supervised losses of {@link Losses} (MoCo's InfoNCE, DCL, SimSiam, DINO, SwAV) against reference
 * implementations written out in doubles below, with log-sum-exps that take the row maximum out first.
 */
class SslLossesTest {
    private static final double RELATIVE = 1e-5;

    @BeforeAll
    static void engine() {
        Engines.get();
    }

    @Test
    void infoNceMatchesTheFormula() {
        double[][] q = {{1, 2, 0}, {0, -1, 1}, {3, 1, -1}};
        double[][] k = {{2, 1, 1}, {1, 0, -2}, {2, 2, 0}};
        double[][] queue = unitRows(new double[][] {{1, 0, 0}, {0, 1, 1}, {-1, 2, 0.5}, {0.3, -0.2, 1}});
        for (double tau : new double[] {0.07, 0.5}) {
            try (NDManager m = NDManager.newBaseManager()) {
                float loss = Losses.infoNce(array(m, q), array(m, k), array(m, queue), (float) tau).getFloat();
                assertClose(infoNce(q, k, queue, tau), loss);
            }
        }
    }

    @Test
    void infoNceIsFiniteForHugeLogits() {
        // τ = 1e-4: logits of 1e4; the positive at cos 0, a negative at cos 1, so the loss is about 1/τ
        double[][] q = {{1, 0, 0}, {0, 2, 0}};
        double[][] k = {{0, 3, 0}, {0, 0, 1}};
        double[][] queue = {{1, 0, 0}, {0, 1, 0}, {0, -1, 0}};
        double tau = 1e-4;
        try (NDManager m = NDManager.newBaseManager()) {
            float loss = Losses.infoNce(array(m, q), array(m, k), array(m, queue), (float) tau).getFloat();
            assertTrue(Float.isFinite(loss), "loss " + loss);
            assertClose(infoNce(q, k, queue, tau), loss);
            assertEquals(1e4, loss, 1e4 * RELATIVE);
        }
    }

    @Test
    void decoupledContrastiveMatchesTheFormula() {
        double[][] a = {{1, 2, 0}, {0, -1, 1}, {2, 0, 1}};
        double[][] b = {{2, 1, 1}, {1, 0, -2}, {1, 1, 1}};
        try (NDManager m = NDManager.newBaseManager()) {
            for (double tau : new double[] {0.1, 0.5}) {
                assertClose(decoupled(a, b, tau, 0),
                        Losses.decoupledContrastive(array(m, a), array(m, b), (float) tau).getFloat());
                assertClose(decoupled(a, b, tau, 0.5),
                        Losses.decoupledContrastiveWeighted(array(m, a), array(m, b), (float) tau, 0.5f).getFloat());
            }
            assertThrows(IllegalArgumentException.class, () -> Losses.decoupledContrastive(
                    array(m, new double[][] {a[0]}), array(m, new double[][] {b[0]}), 0.1f));
        }
    }

    @Test
    void decoupledContrastiveIsNtXentWithoutThePositiveInTheDenominator() {
        // identity pairs: positives at cos 1, the 2N-2 others at cos 0, so DCL = -1/τ + log(2N-2)
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray identity = m.eye(4);
            float loss = Losses.decoupledContrastive(identity, identity.mul(3), 0.5f).getFloat();
            assertEquals(-2 + Math.log(6), loss, 1e-5);
            // all pairs equally aligned: every DCLW weight is 1
            assertEquals(loss, Losses.decoupledContrastiveWeighted(identity, identity, 0.5f, 0.5f).getFloat(), 1e-5);
        }
    }

    @Test
    void decoupledContrastiveIsFiniteForHugeLogits() {
        double[][] a = {{1, 0, 0}, {0, 1, 0}};
        double[][] b = {{0, 1, 0}, {1, 0, 0}};
        double tau = 1e-4;
        try (NDManager m = NDManager.newBaseManager()) {
            float loss = Losses.decoupledContrastive(array(m, a), array(m, b), (float) tau).getFloat();
            assertTrue(Float.isFinite(loss), "loss " + loss);
            assertClose(decoupled(a, b, tau, 0), loss);
        }
    }

    @Test
    void negativeCosineIsMinusTheMeanCosine() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray p = m.create(new float[] {1, 0, 2, 0, 0, 3, 1, 1}, new Shape(4, 2));
            NDArray z = m.create(new float[] {5, 0, 0, 1, 0, -1, 1, 0}, new Shape(4, 2));
            // cosines 1, 0, -1, 1/√2
            assertEquals(-(1 + 0 - 1 + Math.sqrt(0.5)) / 4, Losses.negativeCosine(p, z).getFloat(), 1e-6);
            assertEquals(-1f, Losses.negativeCosine(p, p.mul(2)).getFloat(), 1e-6f);
        }
    }

    @Test
    void dinoMatchesTheFormula() {
        Random r = new Random(5);
        double[][][] student = {gaussian(r, 3, 4), gaussian(r, 3, 4), gaussian(r, 3, 4), gaussian(r, 3, 4)};
        double[][][] teacher = {gaussian(r, 3, 4), gaussian(r, 3, 4)};
        double[] center = {0.3, -0.1, 0.2, 0.5};
        try (NDManager m = NDManager.newBaseManager()) {
            float loss = Losses.dino(arrays(m, student), arrays(m, teacher), array(m, new double[][] {center}),
                    0.1f, 0.04f).getFloat();
            assertClose(dino(student, teacher, center, 0.1, 0.04), loss);
        }
    }

    @Test
    void dinoIsFiniteForHugeLogits() {
        // student logits of 1e4 at τ_s = 0.1 and teacher logits of 1e4 at τ_t = 0.04: the teachers are one-hot, and
        // student view 2 puts teacher view 1's class 1e5 below its favourite, so the loss is about 1e5/4
        double[][][] student = {{{1e4, -1e4, 0}}, {{-1e4, 1e4, 0}}, {{0, 1e4, -1e4}}};
        double[][][] teacher = {{{-1e4, 1e4, 0}}, {{1e4, 0, -1e4}}};
        double[] center = {0, 0, 0};
        try (NDManager m = NDManager.newBaseManager()) {
            float loss = Losses.dino(arrays(m, student), arrays(m, teacher), array(m, new double[][] {center}),
                    0.1f, 0.04f).getFloat();
            assertTrue(Float.isFinite(loss), "loss " + loss);
            assertClose(dino(student, teacher, center, 0.1, 0.04), loss);
        }
    }

    @Test
    void dinoCenterMovesTowardsTheMeanOfAllTeacherRows() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray center = m.create(new float[] {1, 2}, new Shape(1, 2));
            List<NDArray> teacher = List.of(m.create(new float[] {0, 0, 2, 4}, new Shape(2, 2)),
                    m.create(new float[] {6, 8, 0, 0}, new Shape(2, 2)));
            // mean of the four rows (2, 3); 0.75·(1, 2) + 0.25·(2, 3)
            NDArray updated = Losses.dinoCenter(center, teacher, 0.75f);
            assertEquals(new Shape(1, 2), updated.getShape());
            assertArrayEquals(new float[] {1.25f, 2.25f}, updated.toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {1, 2}, center.toFloatArray());
        }
    }

    @Test
    void sinkhornMatchesTheReference() {
        double[][] scores = gaussian(new Random(11), 5, 3);
        try (NDManager m = NDManager.newBaseManager()) {
            for (int iterations : new int[] {0, 1, 3}) {
                NDArray codes = Losses.sinkhorn(array(m, scores), 0.5f, iterations);
                assertEquals(new Shape(5, 3), codes.getShape());
                assertArrayEquals(flat(sinkhorn(scores, 0.5, iterations)), codes.toFloatArray(), 1e-5f);
            }
        }
    }

    @Test
    void sinkhornMarginals() {
        int samples = 32;
        int prototypes = 8;
        Random r = new Random(2);
        double[][] scores = new double[samples][prototypes];
        for (double[] row : scores) {
            for (int k = 0; k < prototypes; k++) {
                row[k] = r.nextDouble() - 0.5;
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            assertMarginals(Losses.sinkhorn(array(m, scores), 1f, 3), samples, prototypes);
            // sharper assignments (scores in [-1, 1] at ε = 0.1) need many more iterations to balance
            assertMarginals(Losses.sinkhorn(array(m, scores).mul(2), 0.1f, 300), samples, prototypes);
        }
    }

    @Test
    void sinkhornKnownAnswersOnTwoByTwo() {
        try (NDManager m = NDManager.newBaseManager()) {
            // symmetric scores: one scaling balances them, each row is the softmax of its scores
            double e = Math.E;
            float[] expected = {(float) (e / (e + 1)), (float) (1 / (e + 1)), (float) (1 / (e + 1)),
                    (float) (e / (e + 1))};
            NDArray symmetric = m.create(new float[] {1, 0, 0, 1}, new Shape(2, 2));
            assertArrayEquals(expected, Losses.sinkhorn(symmetric, 1f, 3).toFloatArray(), 1e-6f);
            // converged, a 2×2 becomes [[p, 1-p], [1-p, p]] with the cross ratio of exp(s/ε) kept:
            // (p/(1-p))² = exp((s00 + s11 - s01 - s10)/ε), so p = σ((s00 + s11 - s01 - s10)/(2ε))
            NDArray scores = m.create(new float[] {2, 0, 1, 0.5f}, new Shape(2, 2));
            double p = 1 / (1 + Math.exp(-(2 + 0.5 - 0 - 1) / (2 * 0.5)));
            assertArrayEquals(new float[] {(float) p, (float) (1 - p), (float) (1 - p), (float) p},
                    Losses.sinkhorn(scores, 0.5f, 100).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void sinkhornIsFiniteForHugeScores() {
        double[][] scores = {{1e4, -1e4, 0}, {0, 1e4 - 1, 1e4 - 2}, {-1e4, 5e3, 1e4 - 0.5}};
        try (NDManager m = NDManager.newBaseManager()) {
            float[] codes = Losses.sinkhorn(array(m, scores), 1f, 3).toFloatArray();
            for (float c : codes) {
                assertTrue(Float.isFinite(c), "code " + c);
            }
            assertArrayEquals(flat(sinkhorn(scores, 1, 3)), codes, 1e-5f);
        }
    }

    @Test
    void swavMatchesTheFormula() {
        Random r = new Random(9);
        double[][][] scores = {gaussian(r, 4, 3), gaussian(r, 4, 3), gaussian(r, 4, 3)};
        try (NDManager m = NDManager.newBaseManager()) {
            double[][][] codes = {sinkhorn(scores[0], 0.05, 3), sinkhorn(scores[1], 0.05, 3)};
            float loss = Losses.swav(arrays(m, scores), arrays(m, codes), 0.1f).getFloat();
            assertClose(swav(scores, codes, 0.1), loss);
            // the codes from Losses.sinkhorn give the same
            List<NDArray> computed = List.of(Losses.sinkhorn(array(m, scores[0]), 0.05f, 3),
                    Losses.sinkhorn(array(m, scores[1]), 0.05f, 3));
            assertClose(swav(scores, codes, 0.1), Losses.swav(arrays(m, scores), computed, 0.1f).getFloat());
        }
    }

    @Test
    void swavIsFiniteForHugeScores() {
        double[][][] scores = {{{1e4, -1e4, 0}}, {{-1e4, 1e4, 0}}};
        double[][][] codes = {{{0.1, 0.7, 0.2}}, {{0.6, 0.1, 0.3}}};
        try (NDManager m = NDManager.newBaseManager()) {
            float loss = Losses.swav(arrays(m, scores), arrays(m, codes), 0.1f).getFloat();
            assertTrue(Float.isFinite(loss), "loss " + loss);
            assertClose(swav(scores, codes, 0.1), loss);
        }
    }

    @Test
    void tooFewViewsAreRejected() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.ones(new Shape(2, 3));
            assertThrows(IllegalArgumentException.class, () -> Losses.swav(List.of(x), List.of(x), 0.1f));
            assertThrows(IllegalArgumentException.class, () -> Losses.dino(List.of(x), List.of(x, x), x.get("0:1"),
                    0.1f, 0.04f));
        }
    }

    @Test
    void gradientsReachOnlyTheTrainedInputs() {
        Random r = new Random(4);
        try (NDManager m = NDManager.newBaseManager()) {
            // InfoNCE: q, not k nor the queue
            NDArray q = array(m, gaussian(r, 3, 4));
            NDArray k = array(m, gaussian(r, 3, 4));
            NDArray queue = array(m, unitRows(gaussian(r, 5, 4)));
            requireGradients(q, k, queue);
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                gc.backward(Losses.infoNce(q, k, queue, 0.2f));
                assertUsefulGradient(q);
                assertNoGradient(k);
                assertNoGradient(queue);
            }
            // DINO: the student, not the teacher nor the centre
            List<NDArray> student = List.of(array(m, gaussian(r, 3, 4)), array(m, gaussian(r, 3, 4)),
                    array(m, gaussian(r, 3, 4)));
            List<NDArray> teacher = List.of(array(m, gaussian(r, 3, 4)), array(m, gaussian(r, 3, 4)));
            NDArray center = array(m, gaussian(r, 1, 4));
            requireGradients(student.get(0), student.get(1), student.get(2), teacher.get(0), teacher.get(1), center);
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                gc.backward(Losses.dino(student, teacher, center, 0.1f, 0.04f));
                student.forEach(SslLossesTest::assertUsefulGradient);
                teacher.forEach(SslLossesTest::assertNoGradient);
                assertNoGradient(center);
            }
            // SwAV: the scores, not the codes (neither Sinkhorn's of the scores nor codes that require a gradient)
            List<NDArray> scores = List.of(array(m, gaussian(r, 4, 3)), array(m, gaussian(r, 4, 3)),
                    array(m, gaussian(r, 4, 3)));
            NDArray givenCodes = array(m, sinkhorn(gaussian(r, 4, 3), 0.05, 3));
            requireGradients(scores.get(0), scores.get(1), scores.get(2), givenCodes);
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                NDArray codes = Losses.sinkhorn(scores.get(0), 0.05f, 3);
                gc.backward(Losses.swav(scores, List.of(codes, givenCodes), 0.1f));
                scores.forEach(SslLossesTest::assertUsefulGradient);
                assertNoGradient(givenCodes);
            }
            // DCL, DCLW and SimSiam: both views for DCL, p and not z for SimSiam
            NDArray a = array(m, gaussian(r, 3, 4));
            NDArray b = array(m, gaussian(r, 3, 4));
            NDArray p = array(m, gaussian(r, 3, 4));
            NDArray z = array(m, gaussian(r, 3, 4));
            requireGradients(a, b, p, z);
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                gc.backward(Losses.decoupledContrastive(a, b, 0.2f)
                        .add(Losses.decoupledContrastiveWeighted(a, b, 0.2f, 0.5f))
                        .add(Losses.negativeCosine(p, z)));
                assertUsefulGradient(a);
                assertUsefulGradient(b);
                assertUsefulGradient(p);
                assertNoGradient(z);
            }
        }
    }

    @Test
    void noArraysOutliveTheStepManager() {
        Random r = new Random(8);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray kept = array(m, gaussian(r, 1, 4));
            int before = m.getManagedArrays().size();
            NDManager system = m.getParentManager();
            int beforeInSystem = system.getManagedArrays().size();
            try (NDManager step = m.newSubManager()) {
                NDArray q = array(step, gaussian(r, 3, 4));
                NDArray k = array(step, gaussian(r, 3, 4));
                NDArray queue = array(step, unitRows(gaussian(r, 5, 4)));
                List<NDArray> views = List.of(q, k, array(step, gaussian(r, 3, 4)));
                List<NDArray> globals = List.of(array(step, gaussian(r, 3, 4)), array(step, gaussian(r, 3, 4)));
                NDArray center = array(step, gaussian(r, 1, 4));
                requireGradients(q, k);
                try (GradientCollector gc = Engines.get().newGradientCollector()) {
                    NDArray loss = Losses.infoNce(q, k, queue, 0.2f)
                            .add(Losses.decoupledContrastive(q, k, 0.2f))
                            .add(Losses.decoupledContrastiveWeighted(q, k, 0.2f, 0.5f))
                            .add(Losses.negativeCosine(q, k))
                            .add(Losses.dino(views, globals, center, 0.1f, 0.04f))
                            .add(Losses.swav(views, List.of(Losses.sinkhorn(q, 0.05f, 3),
                                    Losses.sinkhorn(k, 0.05f, 3)), 0.1f));
                    gc.backward(loss);
                }
                Losses.dinoCenter(center, globals, 0.9f);
                assertTrue(m.getManagedArrays().size() > before + 10, "the step's arrays count in its parent's");
            }
            assertEquals(before, m.getManagedArrays().size());
            assertEquals(beforeInSystem, system.getManagedArrays().size());
            assertEquals(4, kept.toFloatArray().length);
        }
    }

    // ---- reference implementations, in doubles ----

    /** MoCo's InfoNCE: per row, logsumexp([q̂·k̂, q̂·u_j]/τ) - q̂·k̂/τ, averaged. */
    private static double infoNce(double[][] q, double[][] k, double[][] queue, double tau) {
        double total = 0;
        for (int i = 0; i < q.length; i++) {
            double[] query = unit(q[i]);
            double[] logits = new double[1 + queue.length];
            logits[0] = dot(query, unit(k[i])) / tau;
            for (int j = 0; j < queue.length; j++) {
                logits[1 + j] = dot(query, queue[j]) / tau;
            }
            total += logSumExp(logits) - logits[0];
        }
        return total / q.length;
    }

    /** DCL over the 2N anchors (rows of a, then b), DCLW's weights on the positives when sigma > 0. */
    private static double decoupled(double[][] a, double[][] b, double tau, double sigma) {
        int n = a.length;
        double[][] z = anchors(a, b);
        double weightDenominator = 0;
        for (int i = 0; i < n; i++) {
            weightDenominator += sigma > 0 ? Math.exp(dot(z[i], z[n + i]) / sigma) : 0;
        }
        double total = 0;
        for (int i = 0; i < 2 * n; i++) {
            int positive = (i + n) % (2 * n);
            double[] negatives = new double[2 * n - 2];
            int next = 0;
            for (int k = 0; k < 2 * n; k++) {
                if (k != i && k != positive) {
                    negatives[next++] = dot(z[i], z[k]) / tau;
                }
            }
            double cosine = dot(z[i], z[positive]);
            double weight = sigma > 0 ? 2 - n * Math.exp(cosine / sigma) / weightDenominator : 1;
            total += -weight * cosine / tau + logSumExp(negatives);
        }
        return total / (2 * n);
    }

    /** DINO: mean over (teacher view i, student view v ≠ i) of the row-mean cross-entropy. */
    private static double dino(double[][][] student, double[][][] teacher, double[] center, double studentTau,
            double teacherTau) {
        double total = 0;
        int pairs = 0;
        for (int i = 0; i < teacher.length; i++) {
            for (int v = 0; v < student.length; v++) {
                if (v == i) {
                    continue;
                }
                double sum = 0;
                for (int n = 0; n < teacher[i].length; n++) {
                    double[] shifted = new double[center.length];
                    for (int k = 0; k < center.length; k++) {
                        shifted[k] = (teacher[i][n][k] - center[k]) / teacherTau;
                    }
                    sum += crossEntropy(softmax(shifted), scaled(student[v][n], 1 / studentTau));
                }
                total += sum / teacher[i].length;
                pairs++;
            }
        }
        return total / pairs;
    }

    /** SwAV: mean over global views i of the mean over views v ≠ i of the row-mean cross-entropy. */
    private static double swav(double[][][] scores, double[][][] codes, double tau) {
        double total = 0;
        for (int i = 0; i < codes.length; i++) {
            double sub = 0;
            for (int v = 0; v < scores.length; v++) {
                if (v == i) {
                    continue;
                }
                double sum = 0;
                for (int n = 0; n < codes[i].length; n++) {
                    sum += crossEntropy(codes[i][n], scaled(scores[v][n], 1 / tau));
                }
                sub += sum / codes[i].length;
            }
            total += sub / (scores.length - 1);
        }
        return total / codes.length;
    }

    /** SwAV's distributed_sinkhorn on one process, Q indexed [prototype][sample], the global max taken out. */
    private static double[][] sinkhorn(double[][] scores, double epsilon, int iterations) {
        int samples = scores.length;
        int prototypes = scores[0].length;
        double max = Double.NEGATIVE_INFINITY;
        for (double[] row : scores) {
            for (double s : row) {
                max = Math.max(max, s / epsilon);
            }
        }
        double[][] q = new double[prototypes][samples];
        double sum = 0;
        for (int k = 0; k < prototypes; k++) {
            for (int b = 0; b < samples; b++) {
                q[k][b] = Math.exp(scores[b][k] / epsilon - max);
                sum += q[k][b];
            }
        }
        for (double[] row : q) {
            for (int b = 0; b < samples; b++) {
                row[b] /= sum;
            }
        }
        for (int it = 0; it < iterations; it++) {
            for (double[] row : q) {
                double rowSum = 0;
                for (double x : row) {
                    rowSum += x;
                }
                for (int b = 0; b < samples; b++) {
                    row[b] /= rowSum * prototypes;
                }
            }
            for (int b = 0; b < samples; b++) {
                double columnSum = 0;
                for (double[] row : q) {
                    columnSum += row[b];
                }
                for (double[] row : q) {
                    row[b] /= columnSum * samples;
                }
            }
        }
        double[][] codes = new double[samples][prototypes];
        for (int b = 0; b < samples; b++) {
            for (int k = 0; k < prototypes; k++) {
                codes[b][k] = q[k][b] * samples;
            }
        }
        return codes;
    }

    /** {@code -Σ_k p_k log softmax(logits)_k}. */
    private static double crossEntropy(double[] p, double[] logits) {
        double lse = logSumExp(logits);
        double sum = 0;
        for (int k = 0; k < p.length; k++) {
            sum -= p[k] * (logits[k] - lse);
        }
        return sum;
    }

    private static double[] softmax(double[] logits) {
        double lse = logSumExp(logits);
        double[] out = new double[logits.length];
        for (int k = 0; k < logits.length; k++) {
            out[k] = Math.exp(logits[k] - lse);
        }
        return out;
    }

    private static double[][] unitRows(double[][] rows) {
        double[][] out = new double[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            out[i] = unit(rows[i]);
        }
        return out;
    }

    // ---- helpers ----

    private static void assertClose(double expected, float actual) {
        assertTrue(Float.isFinite(actual), "not finite: " + actual);
        assertEquals(expected, actual, RELATIVE * Math.max(1, Math.abs(expected)), "loss");
    }

    private static void assertMarginals(NDArray codes, int samples, int prototypes) {
        float[] q = codes.toFloatArray();
        double[] prototypeSums = new double[prototypes];
        for (int b = 0; b < samples; b++) {
            double sampleSum = 0;
            for (int k = 0; k < prototypes; k++) {
                sampleSum += q[b * prototypes + k];
                prototypeSums[k] += q[b * prototypes + k];
            }
            assertEquals(1, sampleSum, 1e-5, "sample " + b);
        }
        for (int k = 0; k < prototypes; k++) {
            assertEquals((double) samples / prototypes, prototypeSums[k], 1e-3, "prototype " + k);
        }
    }

    private static void requireGradients(NDArray... arrays) {
        for (NDArray x : arrays) {
            x.setRequiresGradient(true);
        }
    }

    private static void assertUsefulGradient(NDArray x) {
        float[] g = x.getGradient().toFloatArray();
        double norm = 0;
        for (float v : g) {
            assertTrue(Float.isFinite(v), "gradient " + v);
            norm += v * v;
        }
        assertTrue(norm > 0, "zero gradient");
    }

    /** DJL's PyTorch engine reports a gradient that backward never reached as zeros. */
    private static void assertNoGradient(NDArray x) {
        for (float v : x.getGradient().toFloatArray()) {
            assertEquals(0f, v);
        }
    }

    private static double[][] gaussian(Random r, int rows, int columns) {
        double[][] out = new double[rows][columns];
        for (double[] row : out) {
            for (int j = 0; j < columns; j++) {
                row[j] = r.nextGaussian();
            }
        }
        return out;
    }

    private static NDArray array(NDManager m, double[][] rows) {
        return m.create(flat(rows), new Shape(rows.length, rows[0].length));
    }

    private static List<NDArray> arrays(NDManager m, double[][][] views) {
        NDArray[] out = new NDArray[views.length];
        for (int v = 0; v < views.length; v++) {
            out[v] = array(m, views[v]);
        }
        return List.of(out);
    }
}
