package ai.coopt.collab;

import ai.coopt.optimize.DataOptimization;
import ai.coopt.optimize.Matrix;
import ai.coopt.optimize.Pca;
import ai.coopt.optimize.RidgeAlignment;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.RowFile;
import ai.coopt.store.Rows;
import ai.coopt.store.Scratch;
import ai.coopt.util.ProgressListener;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Phases 3 and 5: map every participant's outputs into the reference participant's space and
 * merge them, in id order, into one matrix of raw outputs. Shard rows stream from disk to disk a block
 * at a time (files of the run's scratch directory), so the fused data may be far larger than memory.
 * Participants are told apart by id, never by list position: a participant may have optimized any number of
 * shards (one participant that optimized none takes no part).
 */
public final class Fusion {
    /** Rows each participant's merge cursor reads at a time. */
    private static final int CURSOR_ROWS = 4096;

    /**
     * The merged outputs (a scratch file) and how they were aligned.
     *
     * @param participants the manifest's entries, in the order of {@code raw} and of the alignment's lists
     * @param raw each participant's own rows (all its shards, ascending ids), before alignment
     */
    public record Fused(Rows outputs, long[] ids, ManifestProvenance.Alignment alignment,
                        List<ManifestProvenance.Participant> participants, List<String> participantIds,
                        OptimizedDataset.RawOutputs raw, List<String> notes) {}

    /** One participant's outputs: on S, and on all its shards merged by id. */
    private record Part(SharedOutputs shared, long[] ids, Rows rows) {}

    /**
     * The ways to bring participants' outputs into one space: {@code ridge} (the paper's: a ridge map onto the
     * reference on S), {@code pca} (no map: each participant's outputs PCA'd to a common width and standardised in its
     * own space) and {@code none} (no map, no post-processing: the outputs as each participant produced them; a
     * per-participant PCA only when widths differ, to bring them to the narrowest).
     */
    public static final List<String> ALIGNMENTS = List.of("ridge", "pca", "none");

    private Fusion() {}

    /** Refuses an alignment outside {@link #ALIGNMENTS} with one line naming them. */
    public static void checkAlignment(String align) {
        if (!ALIGNMENTS.contains(align)) {
            throw new ai.coopt.UserException("--align must be one of " + String.join(", ", ALIGNMENTS) + ", not '" + align + "'");
        }
    }

    /**
     * Aligns and merges the shards of the participants {@code screening} trusts; an excluded participant's rows are
     * left out, with a note (callers that can, give its shards to trusted participants first).
     *
     * @param screening every participant's outputs on S, judged; the manifest lists the fused ones in this order
     * @param shards every accepted shard, each by a participant of the screening; together disjoint
     * @param align {@code ridge} (λ by generalised cross-validation, fitted on S), {@code pca} or {@code none}
     *              ({@link #ALIGNMENTS})
     */
    public static Fused fuse(Screening.Result screening, List<ShardOutputs> shards, long[] sharedIds, String align,
                             Scratch scratch) {
        List<SharedOutputs> shared = screening.outputs();
        for (ShardOutputs o : shards) {
            if (shared.stream().noneMatch(s -> s.participant().equals(o.participant()))) {
                throw new IllegalArgumentException("shard " + o.shard() + " comes from " + o.participant()
                        + ", who sent no outputs on the shared subset");
            }
        }
        List<String> notes = new ArrayList<>(screening.notes());
        List<Part> parts = new ArrayList<>();
        List<Integer> groups = new ArrayList<>();
        for (int i = 0; i < shared.size(); i++) {
            SharedOutputs s = shared.get(i);
            List<ShardOutputs> own = shards.stream().filter(o -> o.participant().equals(s.participant())).toList();
            Screening.Verdict v = screening.verdicts().get(i);
            if (!v.trusted()) {
                long rows = own.stream().mapToLong(o -> o.ids().length).sum();
                notes.add(s.participant() + " (" + s.prior().prior() + ") is excluded: " + v.reason()
                        + (rows > 0 ? "; its " + rows + " rows are not fused" : ""));
                continue;
            }
            if (own.isEmpty()) {
                continue;
            }
            parts.add(part(s, own, scratch));
            groups.add(v.group());
        }
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("no shard of a trusted participant to fuse"
                    + (notes.isEmpty() ? "" : ": " + String.join("; ", notes)));
        }
        // the screening's reference when it optimized a shard, else a participant with the same outputs on S (its
        // group's) that did, else the most uniform fused participant
        int reference = 0;
        int referenceGroup = screening.reference() >= 0 ? screening.verdicts().get(screening.reference()).group() : -2;
        int inGroup = -1;
        for (int i = 0; i < parts.size(); i++) {
            SharedOutputs s = parts.get(i).shared();
            if (screening.reference() >= 0 && shared.get(screening.reference()).participant().equals(s.participant())) {
                inGroup = i;
                break;
            }
            if (inGroup < 0 && groups.get(i) == referenceGroup) {
                inGroup = i;
            }
            if (s.prior().uniformity() < parts.get(reference).shared().prior().uniformity()) {
                reference = i;
            }
        }
        reference = inGroup >= 0 ? inGroup : reference;
        Fused f = switch (align) {
            case "ridge" -> ridge(parts, sharedIds, reference, screening.referenceVerified(), scratch);
            case "pca" -> ownSpaces(parts, sharedIds, reference, true, screening.referenceVerified(), scratch);
            case "none" -> ownSpaces(parts, sharedIds, reference, false, screening.referenceVerified(), scratch);
            default -> throw new IllegalArgumentException("alignment must be one of " + ALIGNMENTS + ", not " + align);
        };
        return new Fused(f.outputs(), f.ids(), f.alignment(), f.participants(), f.participantIds(), f.raw(),
                List.copyOf(notes));
    }

    /** A participant's shards as one id-ordered set of rows (the shard itself when it has one). */
    private static Part part(SharedOutputs s, List<ShardOutputs> own, Scratch scratch) {
        for (ShardOutputs o : own) {
            if (o.rows().dim() != s.dim() || o.rows().count() != o.ids().length) {
                throw new IllegalArgumentException(s.participant() + "'s shard " + o.shard() + " has " + o.rows().count()
                        + " rows of " + o.rows().dim() + " for " + o.ids().length + " ids of width " + s.dim());
            }
        }
        if (own.size() == 1) {
            return new Part(s, own.get(0).ids(), own.get(0).rows());
        }
        Merged m = merge(own.stream().map(ShardOutputs::ids).toList(), own.stream().map(ShardOutputs::rows).toList(),
                s.dim(), "participant", scratch);
        return new Part(s, m.ids(), m.rows());
    }

    private static Fused ridge(List<Part> parts, long[] sharedIds, int reference, boolean verified, Scratch scratch) {
        Part ref = parts.get(reference);
        int m = sharedIds.length;
        Matrix refShared = new Matrix(ref.shared().values(), m, ref.shared().dim());
        List<Rows> mapped = new ArrayList<>();
        List<Double> lambdas = new ArrayList<>();
        List<Double> residuals = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            Part c = parts.get(i);
            if (i == reference) {
                mapped.add(c.rows());
                lambdas.add(0.0);
                residuals.add(0.0);
                continue;
            }
            RidgeAlignment map = RidgeAlignment.fit(new Matrix(c.shared().values(), m, c.shared().dim()), refShared);
            try (RowFile.Writer out = scratch.rows("aligned", ref.shared().dim())) {
                map.apply(c.rows(), out);
                mapped.add(scratch.keep(out.finish()));
            }
            lambdas.add(map.lambda());
            residuals.add(map.relativeResidual());
        }
        return fused(parts, mapped, ref.shared().dim(), new ManifestProvenance.Alignment(reference, boxed(sharedIds),
                "ridge-gcv", lambdas, residuals, verified), scratch);
    }

    /**
     * No map (the ablations): every shard keeps its own prior's space. With {@code standardise} ({@code pca}) each
     * participant's outputs are post-processed on their own (PCA to the narrowest participant's width, standardised),
     * which already removes rotations and scales between spaces; without ({@code none}) they are fused as produced,
     * a participant's outputs PCA'd (centred and rotated, not scaled) only when widths differ.
     */
    private static Fused ownSpaces(List<Part> parts, long[] sharedIds, int reference, boolean standardise,
                                   boolean verified, Scratch scratch) {
        boolean sameWidth = parts.stream().mapToInt(c -> c.shared().dim()).distinct().count() == 1;
        int dim = standardise || !sameWidth
                ? parts.stream().mapToInt(c -> Math.min(c.shared().dim(), c.ids().length)).min().orElseThrow()
                : parts.get(0).shared().dim();
        List<Rows> own = new ArrayList<>();
        for (Part c : parts) {
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
        return fused(parts, own, dim, new ManifestProvenance.Alignment(reference, boxed(sharedIds),
                standardise ? "pca" : "none", zeros, zeros, verified), scratch);
    }

    private static Fused fused(List<Part> parts, List<Rows> rows, int dim, ManifestProvenance.Alignment alignment,
                               Scratch scratch) {
        Merged all = merge(parts.stream().map(Part::ids).toList(), rows, dim, "fused", scratch);
        List<ManifestProvenance.Participant> described = parts.stream().map(p -> p.shared().prior().participant(
                new ManifestProvenance.Shard(p.ids().length, p.ids()[0], p.ids()[p.ids().length - 1]))).toList();
        return new Fused(all.rows(), all.ids(), alignment, described,
                parts.stream().map(p -> p.shared().participant()).toList(),
                new OptimizedDataset.RawOutputs(parts.stream().map(Part::rows).toList(),
                        parts.stream().map(Part::ids).toList()), List.of());
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

    private record Merged(Rows rows, long[] ids) {}

    /**
     * Several id-sorted sets of rows as one, in ascending id order, written to one scratch file by a K-way merge:
     * every row is read once, sequentially, through one small buffer per set. Ids must not repeat across sets.
     */
    private static Merged merge(List<long[]> idSets, List<Rows> rows, int dim, String name, Scratch scratch) {
        int total = Math.toIntExact(idSets.stream().mapToLong(ids -> ids.length).sum());
        List<Cursor> cursors = new ArrayList<>();
        for (int k = 0; k < idSets.size(); k++) {
            cursors.add(new Cursor(idSets.get(k), rows.get(k)));
        }
        long[] ids = new long[total];
        int block = Rows.blockRows(dim);
        float[] out = new float[Math.multiplyExact(Math.min(block, Math.max(1, total)), dim)];
        try (RowFile.Writer w = scratch.rows(name, dim)) {
            int buffered = 0;
            for (int j = 0; j < total; j++) {
                Cursor next = null;
                for (Cursor c : cursors) {
                    if (c.hasNext() && (next == null || c.id() < next.id())) {
                        next = c;
                    }
                }
                ids[j] = next.id();
                if (j > 0 && ids[j] == ids[j - 1]) {
                    throw new IllegalArgumentException("sample " + ids[j] + " is in two shards");
                }
                next.take(out, buffered * dim);
                if (++buffered == block) {
                    w.write(out, 0, buffered);
                    buffered = 0;
                }
            }
            w.write(out, 0, buffered);
            return new Merged(scratch.keep(w.finish()), ids);
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
