package ai.coopt.collab;

import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.RowFile;
import ai.coopt.store.Rows;
import ai.coopt.store.Scratch;
import ai.coopt.target.DataOptimization;
import ai.coopt.target.Matrix;
import ai.coopt.target.RidgeAlignment;
import ai.coopt.util.ProgressListener;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Phases 3 and 5: map every participant's outputs into the reference participant's space and
 * merge them, in id order, into one matrix of raw outputs. Shard rows stream from disk to disk a block
 * at a time (files of the run's scratch directory), so the fused data may be far larger than memory.
 */
final class Fusion {
    /** Rows each participant's merge cursor reads at a time. */
    private static final int CURSOR_ROWS = 4096;

    /** The merged outputs (a scratch file) and how they were aligned. */
    record Fused(Rows outputs, long[] ids, ManifestProvenance.Alignment alignment) {}

    private Fusion() {}

    /**
     * Ridge alignment (λ by generalised cross-validation) of each participant's outputs onto the
     * reference's, fitted on the shared subset S.
     */
    static Fused ridge(List<Contribution> cs, long[] sharedIds, int reference, Scratch scratch) {
        Contribution ref = cs.get(reference);
        int m = sharedIds.length;
        Matrix refShared = new Matrix(ref.sharedOutputs(), m, ref.outputDim());
        List<Rows> mapped = new ArrayList<>();
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
            try (RowFile.Writer out = scratch.rows("aligned", ref.outputDim())) {
                map.apply(c.shardOutputs(), out);
                mapped.add(scratch.keep(out.finish()));
            }
            lambdas.add(map.lambda());
            residuals.add(map.relativeResidual());
        }
        return merge(cs, mapped, ref.outputDim(), new ManifestProvenance.Alignment(reference, boxed(sharedIds),
                "ridge-gcv", lambdas, residuals), scratch);
    }

    /**
     * No alignment (the ablation): each participant's outputs are post-processed on their own
     * (PCA to the narrowest participant's width, standardised) and stacked, so every shard keeps
     * its own prior's space.
     */
    static Fused none(List<Contribution> cs, long[] sharedIds, int reference, Scratch scratch) {
        int dim = cs.stream().mapToInt(c -> Math.min(c.outputDim(), c.shardIds().length)).min().orElseThrow();
        List<Rows> own = new ArrayList<>();
        for (Contribution c : cs) {
            Rows t = DataOptimization.postprocess(c.shardOutputs(), 0, scratch, ProgressListener.NONE).targets();
            own.add(t.dim() == dim ? t : padded(t, dim));
        }
        List<Double> zeros = cs.stream().map(c -> 0.0).toList();
        return merge(cs, own, dim, new ManifestProvenance.Alignment(reference, boxed(sharedIds), "none", zeros, zeros),
                scratch);
    }

    /** {@code rows} cut or padded with zeros to width {@code dim}. */
    private static Rows padded(Rows rows, int dim) {
        int keep = Math.min(dim, rows.dim());
        return new Rows() {
            @Override
            public int count() {
                return rows.count();
            }

            @Override
            public int dim() {
                return dim;
            }

            @Override
            public void read(int first, int n, float[] dst, int offset) {
                float[] own = new float[Math.multiplyExact(n, rows.dim())];
                rows.read(first, n, own, 0);
                for (int i = 0; i < n; i++) {
                    System.arraycopy(own, i * rows.dim(), dst, offset + i * dim, keep);
                    Arrays.fill(dst, offset + i * dim + keep, offset + (i + 1) * dim, 0f);
                }
            }
        };
    }

    /**
     * All participants' rows in ascending id order, written to one scratch file by a K-way merge of the shards
     * (each sorted by id): every row is read once, sequentially, through one small buffer per participant.
     */
    private static Fused merge(List<Contribution> cs, List<Rows> rows, int dim, ManifestProvenance.Alignment alignment,
                               Scratch scratch) {
        int total = cs.stream().mapToInt(c -> c.shardIds().length).sum();
        List<Cursor> cursors = new ArrayList<>();
        for (int k = 0; k < cs.size(); k++) {
            cursors.add(new Cursor(cs.get(k).shardIds(), rows.get(k)));
        }
        long[] ids = new long[total];
        int block = Rows.blockRows(dim);
        float[] out = new float[Math.multiplyExact(Math.min(block, Math.max(1, total)), dim)];
        try (RowFile.Writer w = scratch.rows("fused", dim)) {
            int buffered = 0;
            for (int j = 0; j < total; j++) {
                Cursor next = null;
                for (Cursor c : cursors) {
                    if (c.hasNext() && (next == null || c.id() < next.id())) {
                        next = c;
                    }
                }
                ids[j] = next.id();
                next.take(out, buffered * dim);
                if (++buffered == block) {
                    w.write(out, 0, buffered);
                    buffered = 0;
                }
            }
            w.write(out, 0, buffered);
            return new Fused(scratch.keep(w.finish()), ids, alignment);
        }
    }

    /** Reads one participant's rows in order, {@value #CURSOR_ROWS} at a time. */
    private static final class Cursor {
        private final long[] ids;
        private final Rows rows;
        private final float[] buffer;
        private int next;
        private int bufferFirst;
        private int buffered;

        Cursor(long[] ids, Rows rows) {
            for (int i = 1; i < ids.length; i++) {
                if (ids[i] <= ids[i - 1]) {
                    throw new IllegalArgumentException("shard ids must ascend: " + ids[i - 1] + " then " + ids[i]);
                }
            }
            this.ids = ids;
            this.rows = rows;
            this.buffer = new float[Math.multiplyExact(Math.min(CURSOR_ROWS, Math.max(1, ids.length)), rows.dim())];
        }

        boolean hasNext() {
            return next < ids.length;
        }

        long id() {
            return ids[next];
        }

        /** Copies the next row into {@code dst} at {@code offset} and moves past it. */
        void take(float[] dst, int offset) {
            if (next >= bufferFirst + buffered) {
                bufferFirst = next;
                buffered = Math.min(CURSOR_ROWS, ids.length - next);
                rows.read(bufferFirst, buffered, buffer, 0);
            }
            int d = rows.dim();
            System.arraycopy(buffer, (next - bufferFirst) * d, dst, offset, d);
            next++;
        }
    }

    private static List<Long> boxed(long[] ids) {
        return Arrays.stream(ids).boxed().toList();
    }
}
