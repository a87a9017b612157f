package ai.coopt.collab;

import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.Rows;
import ai.coopt.store.Scratch;
import ai.coopt.target.Matrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Fusion keyed by participant id: several shards per participant, any order of arrival. */
class FusionTest {
    private static final long[] SHARED = {1, 4, 6, 8, 11, 13};

    private static float[] gaussian(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static SharedOutputs shared(String id, int dim, double uniformity, long seed) {
        PriorReport p = new PriorReport("random:convnet-s:" + seed, "random", "a".repeat(64),
                new ManifestProvenance.Input(1, 8, 8, List.of(0.5), List.of(0.25), "none"), dim, uniformity, SHARED.length);
        return new SharedOutputs(id, p, gaussian(SHARED.length * dim, seed), 0, 0);
    }

    /** Row of sample {@code id} for a participant: a function of the id, so merged rows can be checked. */
    private static ShardOutputs shard(String participant, int shard, long[] ids, int dim) {
        float[] v = new float[ids.length * dim];
        for (int i = 0; i < ids.length; i++) {
            for (int j = 0; j < dim; j++) {
                v[i * dim + j] = ids[i] * 10 + j;
            }
        }
        return new ShardOutputs(participant, shard, ids, new Matrix(v, ids.length, dim), 0);
    }

    private static List<ShardOutputs> shards() {
        return List.of(shard("alice", 0, new long[] {0, 3, 6, 9, 12}, 4), shard("bob", 1, new long[] {1, 4, 7, 10, 13}, 3),
                shard("alice", 2, new long[] {2, 5, 8, 11, 14}, 4));
    }

    @Test
    void aParticipantsShardsAreMergedByIdAndArrivalOrderDoesNotMatter(@TempDir Path tmp) {
        List<SharedOutputs> people = List.of(shared("alice", 4, -2.0, 1), shared("bob", 3, -1.0, 2));
        Fusion.Fused a;
        Fusion.Fused b;
        float[] first;
        try (Scratch s = Scratch.beside(tmp.resolve("a"))) {
            a = Fusion.fuse(people, shards(), SHARED, "ridge", s);
            first = values(a.outputs());
            assertEquals(List.of("alice", "bob"), a.participantIds());
            assertEquals(0, a.alignment().reference(), "alice is the most uniform");
            assertArrayEquals(new long[] {0, 2, 3, 5, 6, 8, 9, 11, 12, 14}, a.raw().ids().get(0));
            float[] raw = values(a.raw().outputs().get(0));
            assertEquals(20f, raw[4], "alice's second row is sample 2's, from her second shard");
            assertEquals(10, a.participants().get(0).shard().count());
            assertEquals(14, a.participants().get(0).shard().maxId());
            long[] all = new long[15];
            for (int i = 0; i < 15; i++) {
                all[i] = i;
            }
            assertArrayEquals(all, a.ids());
        }
        List<ShardOutputs> reversed = new ArrayList<>(shards());
        Collections.reverse(reversed);
        try (Scratch s = Scratch.beside(tmp.resolve("b"))) {
            b = Fusion.fuse(people, reversed, SHARED, "ridge", s);
            assertArrayEquals(first, values(b.outputs()));
            assertArrayEquals(a.ids(), b.ids());
        }
    }

    @Test
    void overlappingShardsOrAnUnknownParticipantAreRefused(@TempDir Path tmp) {
        List<SharedOutputs> people = List.of(shared("alice", 4, -2.0, 1), shared("bob", 3, -1.0, 2));
        try (Scratch s = Scratch.beside(tmp.resolve("a"))) {
            List<ShardOutputs> overlap = List.of(shard("alice", 0, new long[] {0, 1, 2}, 4), shard("bob", 1, new long[] {2, 3}, 3));
            assertThrows(IllegalArgumentException.class, () -> Fusion.fuse(people, overlap, SHARED, "ridge", s));
            List<ShardOutputs> stranger = List.of(shard("carol", 0, new long[] {0, 1}, 4));
            assertThrows(IllegalArgumentException.class, () -> Fusion.fuse(people, stranger, SHARED, "ridge", s));
        }
    }

    private static float[] values(Rows rows) {
        float[] v = new float[rows.count() * rows.dim()];
        rows.read(0, rows.count(), v, 0);
        return v;
    }
}
