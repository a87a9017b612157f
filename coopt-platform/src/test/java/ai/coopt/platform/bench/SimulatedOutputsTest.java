package ai.coopt.platform.bench;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The load benchmark's outputs look like honest priors' outputs: deterministic, varied, mutually predictable. */
class SimulatedOutputsTest {
    private static final int N = 300;
    private static final int DIM = 24;

    private static DMatrixRMaj outputs(int participant, long firstId) {
        long[] ids = new long[N];
        for (int i = 0; i < N; i++) {
            ids[i] = firstId + 7L * i;
        }
        float[] values = new float[N * DIM];
        new SimulatedOutputs(participant, DIM).rows(ids).read(0, N, values, 0);
        DMatrixRMaj m = new DMatrixRMaj(N, DIM);
        for (int i = 0; i < values.length; i++) {
            m.data[i] = values[i];
        }
        return m;
    }

    /** The share of {@code y}'s variance a least-squares linear map (with intercept) from {@code x} explains. */
    private static double explained(DMatrixRMaj x, DMatrixRMaj y) {
        DMatrixRMaj design = new DMatrixRMaj(N, x.numCols + 1);
        CommonOps_DDRM.insert(x, design, 0, 0);
        for (int i = 0; i < N; i++) {
            design.set(i, x.numCols, 1);
        }
        DMatrixRMaj map = new DMatrixRMaj(x.numCols + 1, y.numCols);
        assertTrue(CommonOps_DDRM.solve(design, y, map));
        DMatrixRMaj fitted = new DMatrixRMaj(N, y.numCols);
        CommonOps_DDRM.mult(design, map, fitted);
        double residual = 0;
        double total = 0;
        for (int c = 0; c < y.numCols; c++) {
            double mean = 0;
            for (int i = 0; i < N; i++) {
                mean += y.get(i, c) / N;
            }
            for (int i = 0; i < N; i++) {
                total += (y.get(i, c) - mean) * (y.get(i, c) - mean);
                residual += (y.get(i, c) - fitted.get(i, c)) * (y.get(i, c) - fitted.get(i, c));
            }
        }
        return 1 - residual / total;
    }

    @Test
    void aRowIsTheSameWhereverItIsAskedFor() {
        SimulatedOutputs p = new SimulatedOutputs(3, DIM);
        float[] alone = new float[DIM];
        p.row(1234, alone, 0);
        float[] inShard = new float[3 * DIM];
        p.rows(new long[] {5, 1234, 9}).read(0, 3, inShard, 0);
        float[] again = new float[3 * DIM];
        new SimulatedOutputs(3, DIM).rows(new long[] {1234, 5, 9}).read(0, 3, again, 0);
        assertArrayEquals(alone, Arrays.copyOfRange(inShard, DIM, 2 * DIM));
        assertArrayEquals(alone, Arrays.copyOfRange(again, 0, DIM));
    }

    @Test
    void participantsDifferButEachPredictsTheOthersLinearly() {
        DMatrixRMaj a = outputs(0, 100);
        DMatrixRMaj b = outputs(1, 100);
        DMatrixRMaj otherSamples = outputs(0, 50_000);
        double difference = 0;
        double spread = 0;
        for (int c = 0; c < DIM; c++) {
            double mean = 0;
            for (int i = 0; i < N; i++) {
                mean += a.get(i, c) / N;
                difference += (a.get(i, c) - b.get(i, c)) * (a.get(i, c) - b.get(i, c)) / (N * DIM);
            }
            for (int i = 0; i < N; i++) {
                spread += (a.get(i, c) - mean) * (a.get(i, c) - mean) / (N * DIM);
            }
        }
        assertTrue(difference > 0.5, "not a copy: " + difference);
        assertTrue(spread > 0.5 && spread < 2, "unit scale, not constant: " + spread);
        assertTrue(explained(b, a) > 0.99, "b predicts a: " + explained(b, a));
        assertTrue(explained(a, b) > 0.99, "a predicts b: " + explained(a, b));
        assertTrue(explained(otherSamples, a) < 0.3, "other samples' outputs do not: " + explained(otherSamples, a));
        assertThrows(IllegalArgumentException.class, () -> new SimulatedOutputs(0, 0));
    }
}
