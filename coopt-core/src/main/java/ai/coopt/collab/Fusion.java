package ai.coopt.collab;

import ai.coopt.store.ManifestProvenance;
import ai.coopt.target.DataOptimization;
import ai.coopt.target.Matrix;
import ai.coopt.target.RidgeAlignment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Phases 3 and 5: map every participant's outputs into the reference participant's space and
 * merge them, in id order, into one matrix of raw outputs.
 */
final class Fusion {
    /** The merged outputs and how they were aligned. */
    record Fused(Matrix outputs, long[] ids, ManifestProvenance.Alignment alignment) {}

    private Fusion() {}

    /**
     * Ridge alignment (λ by generalised cross-validation) of each participant's outputs onto the
     * reference's, fitted on the shared subset S.
     */
    static Fused ridge(List<Contribution> cs, long[] sharedIds, int reference) {
        Contribution ref = cs.get(reference);
        int m = sharedIds.length;
        Matrix refShared = new Matrix(ref.sharedOutputs(), m, ref.outputDim());
        List<float[]> mapped = new ArrayList<>();
        List<Double> lambdas = new ArrayList<>();
        List<Double> residuals = new ArrayList<>();
        for (Contribution c : cs) {
            if (c.participant() == reference) {
                mapped.add(c.shardOutputs());
                lambdas.add(0.0);
                residuals.add(0.0);
                continue;
            }
            RidgeAlignment map = RidgeAlignment.fit(new Matrix(c.sharedOutputs(), m, c.outputDim()), refShared);
            mapped.add(map.apply(new Matrix(c.shardOutputs(), c.shardIds().length, c.outputDim())).values());
            lambdas.add(map.lambda());
            residuals.add(map.relativeResidual());
        }
        return merge(cs, mapped, ref.outputDim(), new ManifestProvenance.Alignment(reference, boxed(sharedIds),
                "ridge-gcv", lambdas, residuals));
    }

    /**
     * No alignment (the ablation): each participant's outputs are post-processed on their own
     * (PCA to the narrowest participant's width, standardised) and stacked, so every shard keeps
     * its own prior's space.
     */
    static Fused none(List<Contribution> cs, long[] sharedIds, int reference) {
        int dim = cs.stream().mapToInt(c -> Math.min(c.outputDim(), c.shardIds().length)).min().orElseThrow();
        List<float[]> own = new ArrayList<>();
        for (Contribution c : cs) {
            Matrix raw = new Matrix(c.shardOutputs(), c.shardIds().length, c.outputDim());
            Matrix t = DataOptimization.postprocess(raw, 0).targets();
            float[] padded = new float[c.shardIds().length * dim];
            int keep = Math.min(dim, t.cols());
            for (int i = 0; i < t.rows(); i++) {
                System.arraycopy(t.values(), i * t.cols(), padded, i * dim, keep);
            }
            own.add(padded);
        }
        List<Double> zeros = cs.stream().map(c -> 0.0).toList();
        return merge(cs, own, dim, new ManifestProvenance.Alignment(reference, boxed(sharedIds), "none", zeros, zeros));
    }

    /** Rows of all participants sorted by id. */
    private static Fused merge(List<Contribution> cs, List<float[]> rows, int dim, ManifestProvenance.Alignment alignment) {
        int total = cs.stream().mapToInt(c -> c.shardIds().length).sum();
        long[][] order = new long[total][];
        int r = 0;
        for (int k = 0; k < cs.size(); k++) {
            for (int i = 0; i < cs.get(k).shardIds().length; i++) {
                order[r++] = new long[] {cs.get(k).shardIds()[i], k, i};
            }
        }
        Arrays.sort(order, (a, b) -> Long.compare(a[0], b[0]));
        float[] out = new float[total * dim];
        long[] ids = new long[total];
        for (int j = 0; j < total; j++) {
            ids[j] = order[j][0];
            System.arraycopy(rows.get((int) order[j][1]), (int) order[j][2] * dim, out, j * dim, dim);
        }
        return new Fused(new Matrix(out, total, dim), ids, alignment);
    }

    private static List<Long> boxed(long[] ids) {
        return Arrays.stream(ids).boxed().toList();
    }
}
