package ai.coopt.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The eigen-decomposition of a real symmetric matrix in float64, by the engine's LAPACK ({@code torch.linalg.eigh},
 * which DJL does not expose: it runs as a one-line {@link ScriptModules TorchScript module}). It uses the engine's
 * threads; on the engine shipped with this project a 2048 × 2048 matrix takes about a second on one core, against
 * ten for a pure-Java decomposition.
 */
public final class SymmetricEigen {
    /**
     * A decomposition.
     *
     * @param values the eigenvalues in ascending order
     * @param vectors the unit eigenvectors, row-major: row {@code i} ({@code [i * d, (i + 1) * d)}) belongs to value {@code i}
     */
    public record Result(double[] values, double[] vectors) {}

    private static final class Module {
        static final ScriptModule MODULE = ScriptModules.load("SymmetricEigen", "Tuple[Tensor, Tensor]",
                "_0, _1 = torch.linalg_eigh(x)", "return (_0, _1)");
    }

    private SymmetricEigen() {}

    /**
     * Decomposes the {@code d × d} row-major symmetric matrix {@code a} (only its lower triangle is read).
     *
     * @throws IllegalArgumentException if {@code a} is not {@code d × d}
     * @throws IllegalStateException if the engine's decomposition fails (e.g. does not converge)
     */
    public static Result of(double[] a, int d) {
        if (d < 1 || a.length != (long) d * d) {
            throw new IllegalArgumentException("expected a " + d + " × " + d + " matrix, got " + a.length + " values");
        }
        try (NDManager manager = Engines.get().newBaseManager(Device.cpu())) {
            NDArray x = manager.create(a, new Shape(d, d));
            NDList out;
            try {
                out = Module.MODULE.forward(new NDList(x), false);
            } catch (RuntimeException e) {
                // LAPACK's failure to converge arrives as an error of the call, among any other the engine raises
                throw new IllegalStateException("the eigen-decomposition of the " + d + " × " + d + " matrix failed: "
                        + e.getMessage(), e);
            }
            out.attach(manager);
            return new Result(out.get(0).toDoubleArray(), out.get(1).transpose().toDoubleArray());
        }
    }
}
