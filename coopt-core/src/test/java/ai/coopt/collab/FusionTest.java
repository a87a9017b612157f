package ai.coopt.collab;

import ai.coopt.optimize.Matrix;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.Rows;
import ai.coopt.store.Scratch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import static ai.coopt.collab.SyntheticOutputs.gaussian;
import static ai.coopt.collab.SyntheticOutputs.outputs;
import static ai.coopt.collab.SyntheticOutputs.view;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fusion keyed by participant id: several shards per participant, any order of arrival. */
class FusionTest {
    private static final long[] SHARED = {1, 4, 6, 8, 11, 13};

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
            a = Fusion.fuse(Screening.screen(people), shards(), SHARED, Alignment.RIDGE, s);
            first = values(a.outputs());
            assertEquals(List.of("alice", "bob"), a.participantIds());
            Screening.Result judged = Screening.screen(people);
            assertEquals(a.participantIds().indexOf(judged.verdicts().get(judged.reference()).participant()),
                    a.alignment().reference(), "the reference is the screening's (the more uniform by its own measure)");
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
            b = Fusion.fuse(Screening.screen(people), reversed, SHARED, Alignment.RIDGE, s);
            assertArrayEquals(first, values(b.outputs()));
            assertArrayEquals(a.ids(), b.ids());
        }
    }

    @Test
    void overlappingShardsOrAnUnknownParticipantAreRefused(@TempDir Path tmp) {
        List<SharedOutputs> people = List.of(shared("alice", 4, -2.0, 1), shared("bob", 3, -1.0, 2));
        try (Scratch s = Scratch.beside(tmp.resolve("a"))) {
            List<ShardOutputs> overlap = List.of(shard("alice", 0, new long[] {0, 1, 2}, 4), shard("bob", 1, new long[] {2, 3}, 3));
            assertThrows(IllegalArgumentException.class, () -> Fusion.fuse(Screening.screen(people), overlap, SHARED, Alignment.RIDGE, s));
            List<ShardOutputs> stranger = List.of(shard("carol", 0, new long[] {0, 1}, 4));
            assertThrows(IllegalArgumentException.class, () -> Fusion.fuse(Screening.screen(people), stranger, SHARED, Alignment.RIDGE, s));
        }
    }

    /** Gaussian rows of scale {@code scale} around {@code offset} for {@code ids}: a shard with real spread. */
    private static ShardOutputs noisyShard(String participant, int shard, long[] ids, int dim, float scale, float offset,
                                           long seed) {
        float[] v = gaussian(ids.length * dim, seed);
        for (int i = 0; i < v.length; i++) {
            v[i] = offset + scale * v[i];
        }
        return new ShardOutputs(participant, shard, ids, new Matrix(v, ids.length, dim), 0);
    }

    private static final long[] EVEN = java.util.stream.LongStream.range(0, 40).map(i -> 2 * i).toArray();
    private static final long[] ODD = java.util.stream.LongStream.range(0, 40).map(i -> 2 * i + 1).toArray();

    @Test
    void noneFusesTheOutputsAsProducedAndPcaStandardisesEachSpace(@TempDir Path tmp) {
        List<SharedOutputs> people = List.of(shared("alice", 4, -2.0, 1), shared("bob", 4, -1.0, 2));
        List<ShardOutputs> shards = List.of(noisyShard("alice", 0, EVEN, 4, 5f, 3f, 7), noisyShard("bob", 1, ODD, 4, 0.5f, -1f, 8));
        try (Scratch s = Scratch.beside(tmp.resolve("none"))) {
            Fusion.Fused f = Fusion.fuse(Screening.screen(people), shards, SHARED, Alignment.NONE, s);
            assertEquals("none", f.alignment().method());
            float[] fused = values(f.outputs());
            float[] alice = values(shards.get(0).rows());
            float[] bob = values(shards.get(1).rows());
            for (int i = 0; i < 80; i++) {
                float[] own = i % 2 == 0 ? alice : bob;
                for (int j = 0; j < 4; j++) {
                    assertEquals(own[(i / 2) * 4 + j], fused[i * 4 + j], "sample " + i + " keeps its prior's raw output");
                }
            }
        }
        try (Scratch s = Scratch.beside(tmp.resolve("pca"))) {
            Fusion.Fused f = Fusion.fuse(Screening.screen(people), shards, SHARED, Alignment.PCA, s);
            assertEquals("pca", f.alignment().method());
            assertEquals(4, f.outputs().dim());
            float[] fused = values(f.outputs());
            for (int parity = 0; parity < 2; parity++) {
                for (int j = 0; j < 4; j++) {
                    double sum = 0;
                    double squares = 0;
                    for (int i = parity; i < 80; i += 2) {
                        sum += fused[i * 4 + j];
                        squares += fused[i * 4 + j] * (double) fused[i * 4 + j];
                    }
                    double mean = sum / 40;
                    assertEquals(0, mean, 1e-4, "each participant's space is centred on its own");
                    assertEquals(1, squares / 40 - mean * mean, 1e-3, "and scaled to unit variance on its own");
                }
            }
        }
    }

    @Test
    void noneBringsWiderPriorsToTheNarrowestWidthByPcaWithoutScaling(@TempDir Path tmp) {
        List<SharedOutputs> people = List.of(shared("alice", 4, -2.0, 1), shared("bob", 3, -1.0, 2));
        List<ShardOutputs> shards = List.of(noisyShard("alice", 0, EVEN, 4, 5f, 3f, 7), noisyShard("bob", 1, ODD, 3, 0.5f, -1f, 8));
        try (Scratch s = Scratch.beside(tmp.resolve("none"))) {
            Fusion.Fused f = Fusion.fuse(Screening.screen(people), shards, SHARED, Alignment.NONE, s);
            assertEquals(3, f.outputs().dim());
            float[] fused = values(f.outputs());
            double variance = 0;
            for (int i = 0; i < 80; i += 2) {
                variance += fused[i * 3] * (double) fused[i * 3] / 40;
            }
            assertTrue(variance > 10, "alice's first component keeps her outputs' scale (about 25), not 1: " + variance);
        }
    }

    @Test
    void anAlignmentOutsideTheListIsRefusedNamingThem() {
        var e = assertThrows(ai.coopt.UserException.class, () -> Alignment.named("procrustes"));
        assertTrue(e.getMessage().contains("ridge, pca, none"), e.getMessage());
        Alignment.ALL.forEach(a -> assertEquals(a, Alignment.named(a.name())));
    }

    @Test
    void noiseAndConstantOutputsAreExcludedHoweverUniformAndACopyJoinsItsPriorsGroup() {
        int m = 150;
        double[][] latent = SyntheticOutputs.latent(m, 6, 7);
        float[] first = view(latent, 8, 1, 0.1);
        List<SharedOutputs> all = List.of(
                outputs("honest-a", first, 8, -1.0),
                outputs("honest-b", view(latent, 10, 2, 0.1), 10, -0.9),
                outputs("honest-c", view(latent, 12, 3, 0.1), 12, -0.8),
                outputs("noise", gaussian(m * 16, 4), 16, -3.5),
                outputs("constant", new float[m * 8], 8, -4.0),
                outputs("copy", first.clone(), 8, -1.0));
        List<Screening.Verdict> v = Screening.screen(all).verdicts();
        assertEquals(List.of(true, true, true, false, false, true), v.stream().map(Screening.Verdict::trusted).toList(),
                v.toString());
        assertTrue(v.get(0).bestR2() > 0.9, "honest views of the same latent predict each other: " + v.get(0));
        assertTrue(v.get(3).bestR2() < Screening.MIN_R2 && v.get(3).reason().contains("predicted by 0"), v.get(3).reason());
        assertTrue(v.get(4).reason().contains("same for every image"), v.get(4).reason());
        assertEquals(0, v.get(5).group(), "the copy counts as honest-a's prior again: one vote, not two");
    }

    @Test
    void theReferenceIsTheMostUniformParticipantThatOthersAgreeWith(@TempDir Path tmp) {
        int m = SHARED.length * 25;
        long[] shared = new long[m];
        for (int i = 0; i < m; i++) {
            shared[i] = 1000 + i;
        }
        double[][] latent = SyntheticOutputs.latent(m, 4, 11);
        List<SharedOutputs> people = List.of(outputs("alice", view(latent, 4, 1, 0.1), 4, -1.0),
                outputs("bob", view(latent, 3, 2, 0.1), 3, -0.9), outputs("carol", view(latent, 4, 3, 0.1), 4, -0.8),
                outputs("mallory", gaussian(m * 4, 9), 4, -3.9));
        List<ShardOutputs> shards = List.of(shard("alice", 0, new long[] {0, 4, 8}, 4), shard("bob", 1, new long[] {1, 5, 9}, 3),
                shard("carol", 2, new long[] {2, 6, 10}, 4), shard("mallory", 3, new long[] {3, 7, 11}, 4));
        try (Scratch s = Scratch.beside(tmp.resolve("a"))) {
            Screening.Result judged = Screening.screen(people);
            assertTrue(judged.verdicts().get(3).uniformity() < judged.verdicts().get(0).uniformity(),
                    "noise is the most uniform: " + judged.verdicts());
            Fusion.Fused f = Fusion.fuse(judged, shards, shared, Alignment.RIDGE, s);
            assertEquals(List.of("alice", "bob", "carol"), f.participantIds(), "mallory's rows are not fused");
            String mostUniform = judged.verdicts().stream().filter(Screening.Verdict::trusted)
                    .min((x, y) -> Double.compare(x.uniformity(), y.uniformity())).orElseThrow().participant();
            assertEquals(mostUniform, f.participantIds().get(f.alignment().reference()), "the most uniform trusted one");
            assertEquals(1, f.notes().size(), f.notes().toString());
            assertTrue(f.notes().get(0).startsWith("mallory") && f.notes().get(0).contains("3 rows are not fused"),
                    f.notes().get(0));
        }
    }

    @Test
    void whenTheReferenceOptimizedNoShardAParticipantOfItsPriorTakesItsPlace(@TempDir Path tmp) {
        int m = 150;
        long[] shared = new long[m];
        for (int i = 0; i < m; i++) {
            shared[i] = 1000 + i;
        }
        float[] prior = view(SyntheticOutputs.latent(m, 4, 12), 4, 1, 0.3);
        List<SharedOutputs> people = List.of(outputs("alice", prior, 4, 0), outputs("mallory", gaussian(m * 4, 9), 4, 0),
                outputs("alice-2", prior.clone(), 4, 0));
        // alice, the screening's reference, optimized no shard; the noise is the most uniform of those that did
        List<ShardOutputs> shards = List.of(shard("mallory", 0, new long[] {0, 2, 4}, 4),
                shard("alice-2", 1, new long[] {1, 3, 5}, 4));
        try (Scratch s = Scratch.beside(tmp.resolve("a"))) {
            Screening.Result judged = Screening.screen(people);
            assertEquals(0, judged.reference(), judged.verdicts().toString());
            assertTrue(judged.verdicts().get(1).uniformity() < judged.verdicts().get(2).uniformity());
            Fusion.Fused f = Fusion.fuse(judged, shards, shared, Alignment.RIDGE, s);
            assertEquals(List.of("mallory", "alice-2"), f.participantIds());
            assertEquals("alice-2", f.participantIds().get(f.alignment().reference()), "the reference's prior, not noise");
            assertEquals(Boolean.FALSE, f.alignment().referenceVerified());
        }
    }

    private static float[] values(Rows rows) {
        float[] v = new float[rows.count() * rows.dim()];
        rows.read(0, rows.count(), v, 0);
        return v;
    }
}
