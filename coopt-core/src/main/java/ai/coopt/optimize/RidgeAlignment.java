package ai.coopt.optimize;

import ai.coopt.store.RowSink;
import ai.coopt.store.Rows;

import java.util.Arrays;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * CoOpt's alignment (phase 3): a linear map, with an intercept, from one prior's output space into
 * the reference prior's, fitted on the shared subset S by multi-output ridge regression.
 *
 * <p>Both sides are centred by their column means over S; W (p × q) minimises
 * ||Xc W − Yc||²_F + λ ||W||²_F, and {@link #apply} computes (x − μx) W + μy. The ridge λ is
 * chosen by generalised cross-validation, GCV(λ) = (m − 1) · ||(I − H_λ) Yc||²_F / (m − 1 − tr H_λ)² with
 * H_λ = Xc (XcᵀXc + λI)⁻¹ Xcᵀ, over {@value #GRID_SIZE} values of λ spaced evenly in log scale
 * from {@value #GRID_LOW} · s to {@value #GRID_HIGH} · s, where s is the mean squared singular
 * value of Xc; the smallest λ wins a tie. Everything follows from one thin SVD Xc = U Σ Vᵀ
 * (EJML, float64, single thread): tr H = Σ σᵢ²/(σᵢ² + λ) and W = V diag(σ/(σ² + λ)) Uᵀ Yc. The
 * fit is deterministic: the same input gives the same bits.
 */
public final class RidgeAlignment {
    /** Number of candidate λ values. */
    static final int GRID_SIZE = 41;
    /** Smallest candidate λ, relative to the mean squared singular value. */
    static final double GRID_LOW = 1e-6;
    /** Largest candidate λ, relative to the mean squared singular value. */
    static final double GRID_HIGH = 1e6;

    private final double[] sourceMean;
    private final double[] targetMean;
    private final double[] weights;
    private final double lambda;
    private final double gcvScore;
    private final double relativeResidual;
    private final double effectiveDof;
    private final double scale;

    private RidgeAlignment(double[] sourceMean, double[] targetMean, double[] weights, double lambda, double gcvScore,
            double relativeResidual, double effectiveDof, double scale) {
        this.sourceMean = sourceMean;
        this.targetMean = targetMean;
        this.weights = weights;
        this.lambda = lambda;
        this.gcvScore = gcvScore;
        this.relativeResidual = relativeResidual;
        this.effectiveDof = effectiveDof;
        this.scale = scale;
    }

    /**
     * Fits the map from {@code source} to {@code reference}, choosing λ by GCV.
     *
     * @param source the shared subset's outputs from the participant's prior, m × p, m ≥ 3
     * @param reference the same m samples' outputs from the reference prior, m × q
     * @throws IllegalArgumentException if m &lt; 3, the row counts differ, a side has no columns,
     *     a value is NaN or infinite, or the source outputs are the same for every sample
     */
    public static RidgeAlignment fit(Matrix source, Matrix reference) {
        Problem problem = new Problem(source, reference);
        double[] grid = lambdaGrid(problem.scale);
        // The largest λ always qualifies: there tr H ≤ rank · 1e-6 < m.
        double best = grid[grid.length - 1];
        double bestScore = Double.POSITIVE_INFINITY;
        for (double candidate : grid) {
            double score = problem.gcv(candidate);
            if (score < bestScore) {
                best = candidate;
                bestScore = score;
            }
        }
        return problem.solve(best);
    }

    /**
     * Fits the map with a given λ instead of choosing one; {@link #gcvScore()} is still that λ's
     * (infinite if m − 1 − tr H ≤ 0).
     */
    static RidgeAlignment fit(Matrix source, Matrix reference, double lambda) {
        if (!(lambda > 0) || !Double.isFinite(lambda)) {
            throw new IllegalArgumentException("ridge λ must be positive and finite, not " + lambda);
        }
        return new Problem(source, reference).solve(lambda);
    }

    /** The candidate λ values for a mean squared singular value {@code s}, in increasing order. */
    static double[] lambdaGrid(double s) {
        double low = Math.log10(GRID_LOW);
        double step = (Math.log10(GRID_HIGH) - low) / (GRID_SIZE - 1);
        double[] grid = new double[GRID_SIZE];
        for (int i = 0; i < GRID_SIZE; i++) {
            grid[i] = s * Math.pow(10, low + i * step);
        }
        return grid;
    }

    /**
     * Maps rows of the participant's output space into the reference space: (x − μx) W + μy,
     * accumulated in float64 per row and rounded to float once.
     *
     * @param x n × p rows in the source space
     * @return n × q rows in the reference space
     */
    public Matrix apply(Matrix x) {
        Matrix.Filler out = Matrix.filler(x.rows(), targetDim());
        apply(x, out);
        return out.matrix();
    }

    /** Maps the rows of {@code x} into {@code out}, block by block: any number of rows passes through memory. */
    public void apply(Rows x, RowSink out) {
        int p = sourceDim();
        int q = targetDim();
        if (x.dim() != p) {
            throw new IllegalArgumentException("the alignment maps " + p + "-dimensional rows, not " + x.dim());
        }
        int block = Rows.blockRows(Math.max(p, q));
        float[] mapped = new float[Math.multiplyExact(Math.min(block, Math.max(1, x.count())), q)];
        double[] row = new double[q];
        x.forEachBlock(block, (first, n, in) -> {
            for (int i = 0; i < n; i++) {
                System.arraycopy(targetMean, 0, row, 0, q);
                for (int k = 0; k < p; k++) {
                    double centred = in[i * p + k] - sourceMean[k];
                    for (int j = 0; j < q; j++) {
                        row[j] += centred * weights[k * q + j];
                    }
                }
                for (int j = 0; j < q; j++) {
                    mapped[i * q + j] = (float) row[j];
                }
            }
            out.write(mapped, 0, n);
        });
    }

    /** The ridge λ the map was fitted with. */
    public double lambda() {
        return lambda;
    }

    /** The GCV score of {@link #lambda()}: (m − 1) · ||(I − H) Yc||²_F / (m − 1 − tr H)² (the intercept uses one degree of freedom). */
    public double gcvScore() {
        return gcvScore;
    }

    /**
     * The fit residual on S: ||(I − H) Yc||_F / ||Yc||_F, in [0, 1]; 0 when the reference outputs
     * are the same for every sample.
     */
    public double relativeResidual() {
        return relativeResidual;
    }

    /** The effective degrees of freedom tr H = Σ σᵢ²/(σᵢ² + λ). */
    public double effectiveDof() {
        return effectiveDof;
    }

    /** Dimension p of the participant's outputs. */
    public int sourceDim() {
        return sourceMean.length;
    }

    /** Dimension q of the reference prior's outputs. */
    public int targetDim() {
        return targetMean.length;
    }

    /** The mean squared singular value s of the centred source, to which the λ grid is relative. */
    double scale() {
        return scale;
    }

    /** The centred problem reduced by the thin SVD of Xc, from which any λ's fit follows cheaply. */
    private static final class Problem {
        private final int m;
        private final int p;
        private final int q;
        private final double[] sourceMean;
        private final double[] targetMean;
        private final double[] sigma;
        private final DMatrixRMaj v;
        /** Uᵀ Yc, r × q. */
        private final DMatrixRMaj projected;
        /** ||row i of Uᵀ Yc||². */
        private final double[] projectedNorm2;
        /** ||(I − U Uᵀ) Yc||²_F: the part of Yc no λ can fit. */
        private final double outside;
        private final double targetNorm2;
        private final double scale;

        Problem(Matrix source, Matrix reference) {
            m = source.rows();
            p = source.cols();
            q = reference.cols();
            if (reference.rows() != m) {
                throw new IllegalArgumentException("alignment needs the same samples from both priors, but the source has "
                        + m + " rows and the reference " + reference.rows());
            }
            if (m < 3) {
                throw new IllegalArgumentException("alignment needs at least 3 shared samples, not " + m);
            }
            if (p < 1 || q < 1) {
                throw new IllegalArgumentException("alignment needs outputs with at least 1 dimension, not " + p + " → " + q);
            }
            sourceMean = mean(source, "source");
            targetMean = mean(reference, "reference");
            DMatrixRMaj xc = centred(source, sourceMean);
            DMatrixRMaj yc = centred(reference, targetMean);

            SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(m, p, true, true, true);
            if (!svd.decompose(xc)) {
                throw new IllegalStateException("the SVD of the " + m + " × " + p + " centred source did not converge");
            }
            DMatrixRMaj u = svd.getU(null, false);
            v = svd.getV(null, false);
            int r = svd.numberOfSingularValues();
            sigma = Arrays.copyOf(svd.getSingularValues(), r);
            double sum = 0;
            for (int i = 0; i < r; i++) {
                sum += sigma[i] * sigma[i];
            }
            if (sum == 0) {
                throw new IllegalArgumentException("the source outputs are the same for every shared sample: nothing to align");
            }
            scale = sum / r;

            projected = new DMatrixRMaj(r, q);
            CommonOps_DDRM.multTransA(u, yc, projected);
            projectedNorm2 = new double[r];
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < q; j++) {
                    double z = projected.get(i, j);
                    projectedNorm2[i] += z * z;
                }
            }
            DMatrixRMaj inSpan = new DMatrixRMaj(m, q);
            CommonOps_DDRM.mult(u, projected, inSpan);
            double out = 0;
            double total = 0;
            for (int i = 0; i < m * q; i++) {
                double y = yc.data[i];
                double d = y - inSpan.data[i];
                out += d * d;
                total += y * y;
            }
            outside = out;
            targetNorm2 = total;
        }

        /** tr H_λ. */
        double trace(double lambda) {
            double t = 0;
            for (double s : sigma) {
                t += s * s / (s * s + lambda);
            }
            return t;
        }

        /** ||(I − H_λ) Yc||²_F = Σ (λ/(σᵢ² + λ))² ||(Uᵀ Yc)ᵢ||² + ||(I − U Uᵀ) Yc||²_F. */
        double residual2(double lambda) {
            double r2 = outside;
            for (int i = 0; i < sigma.length; i++) {
                double shrink = lambda / (sigma[i] * sigma[i] + lambda);
                r2 += shrink * shrink * projectedNorm2[i];
            }
            return r2;
        }

        /**
         * GCV(λ) with the intercept counted: centring on S spends one degree of freedom, so the
         * residual has m − 1 − tr H_λ of them. Counting m instead lets a map with more inputs than
         * samples (tr H → m − 1 as λ → 0) interpolate S exactly and score best, which is the overfit
         * the penalty is there to prevent. Infinity when no degree of freedom is left.
         */
        double gcv(double lambda) {
            double dof = m - 1;
            double denominator = dof - trace(lambda);
            return denominator > 1e-12 * dof ? dof * residual2(lambda) / (denominator * denominator) : Double.POSITIVE_INFINITY;
        }

        /** The fit for {@code lambda}: W = V diag(σ/(σ² + λ)) Uᵀ Yc. */
        RidgeAlignment solve(double lambda) {
            DMatrixRMaj scaled = projected.copy();
            for (int i = 0; i < sigma.length; i++) {
                double g = sigma[i] / (sigma[i] * sigma[i] + lambda);
                for (int j = 0; j < q; j++) {
                    scaled.set(i, j, g * scaled.get(i, j));
                }
            }
            DMatrixRMaj w = new DMatrixRMaj(p, q);
            CommonOps_DDRM.mult(v, scaled, w);
            double residual = targetNorm2 == 0 ? 0 : Math.min(1, Math.sqrt(residual2(lambda) / targetNorm2));
            return new RidgeAlignment(sourceMean, targetMean, w.data, lambda, gcv(lambda), residual, trace(lambda), scale);
        }

        /** Column means summed in double in row order; rejects non-finite values. */
        private static double[] mean(Matrix x, String side) {
            int n = x.rows();
            int d = x.cols();
            float[] values = x.values();
            double[] sum = new double[d];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    float value = values[i * d + j];
                    if (!Float.isFinite(value)) {
                        throw new IllegalArgumentException(
                                "alignment " + side + " row " + i + ", dimension " + j + " is " + value);
                    }
                    sum[j] += value;
                }
            }
            for (int j = 0; j < d; j++) {
                sum[j] /= n;
            }
            return sum;
        }

        /** {@code x} minus {@code mean} in float64. */
        private static DMatrixRMaj centred(Matrix x, double[] mean) {
            int d = x.cols();
            DMatrixRMaj c = new DMatrixRMaj(x.rows(), d);
            float[] values = x.values();
            for (int i = 0; i < values.length; i++) {
                c.data[i] = values[i] - mean[i % d];
            }
            return c;
        }
    }
}
