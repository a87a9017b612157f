package ai.coopt.collab;

import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.RowFile;
import ai.coopt.store.Rows;
import ai.coopt.store.Scratch;

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

    /** One fused participant's outputs: on S, and on all its shards merged by id (what an {@link Alignment} maps). */
    public record Part(SharedOutputs shared, long[] ids, Rows rows) {}

    private Fusion() {}

    /**
     * Aligns and merges the shards of the participants {@code screening} trusts; an excluded participant's rows are
     * left out, with a note (callers that can, give its shards to trusted participants first).
     *
     * @param screening every participant's outputs on S, judged; the manifest lists the fused ones in this order
     * @param shards every accepted shard, each by a participant of the screening; together disjoint
     * @param alignment how the trusted participants' outputs are brought into the reference's space
     */
    public static Fused fuse(Screening.Result screening, List<ShardOutputs> shards, long[] sharedIds, Alignment alignment,
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
        Alignment.Aligned a = alignment.align(parts, sharedIds, reference, screening.referenceVerified(), scratch);
        Fused f = fused(parts, a.rows(), a.dim(), a.description(), scratch);
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

    static List<Long> boxed(long[] ids) {
        return Arrays.stream(ids).boxed().toList();
    }
}
