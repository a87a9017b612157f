package ai.coopt.engine;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's symmetric eigen-decomposition against EJML's (pure Java) on small synthetic matrices. */
class SymmetricEigenTest {
    private static double[] symmetric(int d, long seed) {
        Random r = new Random(seed);
        double[] b = new double[d * d];
        for (int i = 0; i < b.length; i++) {
            b[i] = r.nextGaussian();
        }
        double[] a = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) {
                    s += b[i * d + k] * b[j * d + k];
                }
                a[i * d + j] = s;
            }
        }
        return a;
    }

    @Test
    void agreesWithEjmlAndSatisfiesTheDefinition() {
        int d = 60;
        double[] a = symmetric(d, 3);
        SymmetricEigen.Result e = SymmetricEigen.of(a, d);
        assertEquals(d, e.values().length);
        for (int i = 1; i < d; i++) {
            assertTrue(e.values()[i - 1] <= e.values()[i], "ascending");
        }
        EigenDecomposition_F64<DMatrixRMaj> ejml = DecompositionFactory_DDRM.eig(d, true, true);
        assertTrue(ejml.decompose(new DMatrixRMaj(d, d, true, a.clone())));
        double[] reference = new double[d];
        for (int i = 0; i < d; i++) {
            reference[i] = ejml.getEigenvalue(i).getReal();
        }
        Arrays.sort(reference);
        double scale = reference[d - 1];
        assertArrayEquals(reference, e.values(), 1e-10 * scale);
        // A v = λ v and |v| = 1 for every pair (row i of the vectors)
        for (int i = 0; i < d; i++) {
            double norm = 0;
            for (int r = 0; r < d; r++) {
                double av = 0;
                for (int c = 0; c < d; c++) {
                    av += a[r * d + c] * e.vectors()[i * d + c];
                }
                assertEquals(e.values()[i] * e.vectors()[i * d + r], av, 1e-9 * scale, "pair " + i + ", row " + r);
                norm += e.vectors()[i * d + r] * e.vectors()[i * d + r];
            }
            assertEquals(1, norm, 1e-12);
        }
    }

    @Test
    void repeatsBitForBitAndRefusesAWrongShape() {
        double[] a = symmetric(40, 5);
        SymmetricEigen.Result first = SymmetricEigen.of(a, 40);
        SymmetricEigen.Result second = SymmetricEigen.of(a, 40);
        assertTrue(Arrays.equals(first.values(), second.values()));
        assertTrue(Arrays.equals(first.vectors(), second.vectors()));
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(a, 41));
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[0], 0));
    }
}
