package ai.coopt.collab;

import ai.coopt.optimize.DataOptimization;
import ai.coopt.optimize.Pca;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.RowFile;
import ai.coopt.store.Rows;
import ai.coopt.store.Scratch;
import ai.coopt.util.ProgressListener;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * No map (the ablations {@link Alignment#PCA} and {@link Alignment#NONE}): every shard keeps its own prior's space.
 * With {@code standardise} ({@code pca}) each participant's outputs are post-processed on their own (PCA to the
 * narrowest participant's width, standardised), which already removes rotations and scales between spaces; without
 * ({@code none}) they are fused as produced, a participant's outputs PCA'd (centred and rotated, not scaled) only when
 * widths differ.
 */
final class OwnSpaces implements Alignment {
    private final boolean standardise;

    OwnSpaces(boolean standardise) {
        this.standardise = standardise;
    }

    @Override
    public String name() {
        return standardise ? "pca" : "none";
    }

    @Override
    public Aligned align(List<Fusion.Part> parts, long[] sharedIds, int reference, boolean referenceVerified,
                         Scratch scratch) {
        boolean sameWidth = parts.stream().mapToInt(c -> c.shared().dim()).distinct().count() == 1;
        int dim = standardise || !sameWidth
                ? parts.stream().mapToInt(c -> Math.min(c.shared().dim(), c.ids().length)).min().orElseThrow()
                : parts.get(0).shared().dim();
        List<Rows> own = new ArrayList<>();
        for (Fusion.Part c : parts) {
            Rows t;
            if (standardise) {
                t = DataOptimization.postprocess(c.rows(), 0, scratch, ProgressListener.NONE).targets();
            } else if (sameWidth) {
                t = c.rows();
            } else {
                Pca pca = Pca.fit(c.rows(), Math.min(dim, c.rows().dim()));
                try (RowFile.Writer w = scratch.rows("pca-own", pca.k())) {
                    pca.transform(c.rows(), w);
                    t = scratch.keep(w.finish());
                }
            }
            own.add(t.dim() == dim ? t : padded(t, dim));
        }
        List<Double> zeros = parts.stream().map(c -> 0.0).toList();
        return new Aligned(own, dim, new ManifestProvenance.Alignment(reference, Fusion.boxed(sharedIds), name(), zeros,
                zeros, referenceVerified));
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

    @Override
    public String toString() {
        return name();
    }
}
