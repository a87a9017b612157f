package ai.coopt.collab;

import ai.coopt.optimize.Matrix;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static ai.coopt.collab.SyntheticOutputs.gaussian;
import static ai.coopt.collab.SyntheticOutputs.latent;
import static ai.coopt.collab.SyntheticOutputs.outputs;
import static ai.coopt.collab.SyntheticOutputs.view;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who is fused: agreement by a majority, computed uniformity, residual outliers, and a shard against its own S. */
class ScreeningTest {
    @Test
    void aMinorityOfCollidersThatPredictOnlyEachOtherIsExcluded() {
        int m = 200;
        double[][] z = latent(m, 6, 1);
        float[] noise = gaussian(m * 8, 99);
        float[] colluder = new float[noise.length];
        for (int i = 0; i < noise.length; i++) {
            colluder[i] = 2 * noise[i] + 0.01f; // the same noise, rescaled: they predict each other perfectly
        }
        List<SharedOutputs> all = List.of(outputs("h1", view(z, 8, 2, 0.1), 8, -1), outputs("h2", view(z, 10, 3, 0.1), 10, -1),
                outputs("h3", view(z, 8, 4, 0.1), 8, -1), outputs("c1", noise, 8, -4), outputs("c2", colluder, 8, -4));
        Screening.Result r = Screening.screen(all);
        assertEquals(List.of(true, true, true, false, false), r.verdicts().stream().map(Screening.Verdict::trusted).toList(),
                r.verdicts().toString());
        assertTrue(r.verdicts().get(3).reason().contains("predicted by 1 of the 4"), r.verdicts().get(3).reason());
        assertTrue(r.reference() < 3, "the reference is an honest participant");
    }

    @Test
    void uniformityIsComputedFromTheOutputsNeverTakenFromTheReport() {
        int m = 120;
        double[][] z = latent(m, 4, 5);
        List<SharedOutputs> all = List.of(outputs("a", view(z, 6, 6, 0.1), 6, -100), outputs("b", view(z, 6, 7, 0.1), 6, 0));
        Screening.Result r = Screening.screen(all);
        for (int i = 0; i < 2; i++) {
            SharedOutputs s = all.get(i);
            double own = ai.coopt.optimize.Uniformity.ofOutputs(s.values(), s.count(), s.dim());
            assertEquals(own, r.verdicts().get(i).uniformity(), 0);
            assertEquals(own, r.outputs().get(i).prior().uniformity(), 0, "the manifest gets the computed value");
        }
    }

    @Test
    void aParticipantWhoseAlignmentResidualIsARobustOutlierIsExcluded() {
        int m = 300;
        double[][] z = latent(m, 6, 11);
        List<SharedOutputs> all = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            all.add(outputs("h" + i, view(z, 8, 20 + i, 0.1), 8, 0));
        }
        // mostly noise: still predicted by the others (R² ≈ 0.1), but it fits the reference far worse than anyone
        float[] half = view(z, 8, 40, 3.0);
        all.add(outputs("noisy", half, 8, 0));
        Screening.Result r = Screening.screen(all);
        Screening.Verdict noisy = r.verdicts().get(5);
        assertFalse(noisy.trusted(), r.verdicts().toString());
        assertTrue(noisy.reason().contains("outlier") || noisy.reason().contains("predicted by"), noisy.reason());
        for (int i = 0; i < 5; i++) {
            assertTrue(r.verdicts().get(i).trusted(), r.verdicts().get(i).toString());
        }
    }

    @Test
    void honestParticipantsWithUnequalFitsAreNotOutliers() {
        int m = 300;
        double[][] z = latent(m, 6, 12);
        List<SharedOutputs> all = new ArrayList<>();
        double[] noise = {0.05, 0.3, 0.5, 0.8, 1.0, 0.2};
        for (int i = 0; i < noise.length; i++) {
            all.add(outputs("h" + i, view(z, 6 + i, 30 + i, noise[i]), 6 + i, 0));
        }
        Screening.Result r = Screening.screen(all);
        assertTrue(r.excluded().isEmpty(), r.verdicts().toString());
        assertTrue(Double.isFinite(r.residualThreshold()), "enough participants to judge residuals");
    }

    @Test
    void aParticipantExcludedForItsShardTakesNoPartAndCannotBeTheReference() {
        int m = 100;
        double[][] z = latent(m, 4, 13);
        List<SharedOutputs> all = List.of(outputs("a", view(z, 6, 1, 0.1), 6, 0), outputs("b", view(z, 6, 2, 0.1), 6, 0),
                outputs("c", view(z, 6, 3, 0.1), 6, 0));
        Screening.Result r = Screening.screen(all, Map.of("a", "shard 0: scaled"));
        assertFalse(r.verdicts().get(0).trusted());
        assertEquals("shard 0: scaled", r.verdicts().get(0).reason());
        assertTrue(r.reference() == 1 || r.reference() == 2);
        assertTrue(r.reasons().get(0).startsWith("a (prior-of-a) is excluded: shard 0"), r.reasons().toString());
    }

    @Test
    void aShardMustAgreeWithItsOwnOutputsOnS() {
        int m = 200;
        int n = 2000;
        double[][] all = latent(m + n, 5, 21);
        double[][] s = java.util.Arrays.copyOfRange(all, 0, m);
        double[][] x = java.util.Arrays.copyOfRange(all, m, m + n);
        int d = 12;
        SharedOutputs shared = outputs("p", view(s, d, 3, 0.1), d, 0);
        float[] honest = view(x, d, 3, 0.1);
        assertTrue(Screening.shardDisagreement(shared, new Matrix(honest, n, d)).isEmpty(), "an honest shard passes");
        // a small honest shard passes too: sampling error grows, so does the allowance
        assertTrue(Screening.shardDisagreement(shared, new Matrix(java.util.Arrays.copyOf(honest, 5 * d), 5, d)).isEmpty());

        float[] scaled = honest.clone();
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] *= 2;
        }
        assertTrue(Screening.shardDisagreement(shared, new Matrix(scaled, n, d)).orElse("").contains("vary"));
        float[] shifted = honest.clone();
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] += 1.5f;
        }
        assertTrue(Screening.shardDisagreement(shared, new Matrix(shifted, n, d)).orElse("").contains("mean output"));
        float[] constant = new float[n * d];
        assertTrue(Screening.shardDisagreement(shared, new Matrix(constant, n, d)).isPresent());
        float[] noise = gaussian(n * d, 5);
        assertTrue(Screening.shardDisagreement(shared, new Matrix(noise, n, d)).isPresent(), "noise of another scale");
    }

    @Test
    void aSharedSubsetTooSmallToJudgeAgreementIsSaid() {
        int m = 6;
        double[][] z = latent(m, 3, 31);
        List<SharedOutputs> all = List.of(outputs("a", view(z, 4, 1, 0.1), 4, 0), outputs("b", view(z, 4, 2, 0.1), 4, 0),
                outputs("c", view(z, 4, 3, 0.1), 4, 0), outputs("noise", gaussian(m * 4, 9), 4, 0));
        Screening.Result r = Screening.screen(all);
        assertTrue(r.verdicts().stream().allMatch(v -> Double.isNaN(v.bestR2())), "agreement cannot be judged on 6 rows");
        // centred, the noise is not the most uniform of the four (b is), so it is judged by its alignment residual
        assertEquals(List.of("noise"), r.excluded().stream().map(Screening.Verdict::participant).toList(), r.reasons().toString());
        assertTrue(r.excluded().get(0).reason().contains("alignment residual"), r.excluded().get(0).reason());
        assertEquals(1, r.notes().size());
        assertTrue(r.notes().get(0).contains("S has 6 rows"), r.notes().get(0));
        assertTrue(Screening.screen(all.subList(0, 2)).notes().isEmpty(), "two participants: agreement is never judged");
    }

    @Test
    void honestOutputsAsWideAsTheRowsOfSAreNeverCalledNoiseAndWithEnoughRowsNoiseIs() {
        // 16-wide outputs of a 16-factor latent on 20 rows: each fold would fit 16 rows with 16 columns, matching them
        // exactly and predicting the held-out 4 by chance (an honest participant was quarantined this way in CI)
        int dim = 16;
        for (long seed = 0; seed < 40; seed++) {
            double[][] z = latent(20, dim, 100 + seed);
            List<SharedOutputs> all = new ArrayList<>();
            for (int p = 0; p < 6; p++) {
                all.add(outputs("h" + p, view(z, dim, 1000 * seed + p, 0.01), dim, 0));
            }
            Screening.Result r = Screening.screen(all);
            assertEquals(List.of(), r.excluded(), "seed " + seed);
            assertTrue(r.notes().stream().anyMatch(n -> n.contains("S has 20 rows, outputs 16 wide need at least 40")),
                    r.notes().toString());
        }
        int m = Screening.minRowsForWidth(dim);
        assertEquals(40, m, "each fold then trains on 32 rows, twice the width");
        double[][] z = latent(m, dim, 7);
        List<SharedOutputs> all = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            all.add(outputs("h" + p, view(z, dim, p, 0.01), dim, 0));
        }
        all.add(outputs("noise", gaussian(m * dim, 8), dim, 0));
        Screening.Result r = Screening.screen(all);
        assertEquals(List.of("noise"), r.excluded().stream().map(Screening.Verdict::participant).toList(), r.verdicts().toString());
        assertTrue(r.excluded().get(0).reason().contains("predicted by 0 of the 4"), r.excluded().get(0).reason());
        assertTrue(r.notes().isEmpty(), r.notes().toString());
    }

    /** {@code v} plus Gaussian noise of {@code relative} times its root-mean-square value: a rerun of one prior elsewhere. */
    private static float[] rerun(float[] v, double relative, long seed) {
        double rms = 0;
        for (float x : v) {
            rms += (double) x * x;
        }
        rms = Math.sqrt(rms / v.length);
        float[] noise = gaussian(v.length, seed);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] + relative * rms * noise[i]);
        }
        return out;
    }

    @Test
    void outputsAreOnePriorsWithinTheToleranceAndNotBeyond() {
        double[][] z = latent(50, 4, 41);
        float[] a = view(z, 6, 1, 0.1);
        SharedOutputs p = outputs("p", a, 6, 0);
        assertTrue(PriorGroups.sameOutputs(p, outputs("q", a.clone(), 6, 0)), "identical");
        assertTrue(PriorGroups.sameOutputs(p, outputs("q", rerun(a, 1e-3, 2), 6, 0)), "float rounding of another machine");
        assertFalse(PriorGroups.sameOutputs(p, outputs("q", rerun(a, 3e-2, 3), 6, 0)), "beyond the tolerance");
        assertFalse(PriorGroups.sameOutputs(p, outputs("q", view(z, 6, 4, 0.1), 6, 0)), "another view of the same images");
        assertFalse(PriorGroups.sameOutputs(p, outputs("q", java.util.Arrays.copyOf(a, 25 * 12), 12, 0)), "another width");
    }

    @Test
    void theSamePriorTwiceIsKeptAndNoiseBesideItIsNotTheReference() {
        int m = 200;
        double[][] z = latent(m, 6, 42);
        float[] prior = view(z, 8, 5, 0.3);
        List<SharedOutputs> all = List.of(outputs("a", prior, 8, 0), outputs("noise", gaussian(m * 8, 43), 8, 0),
                outputs("b", prior.clone(), 8, 0));
        Screening.Result r = Screening.screen(all);
        assertTrue(r.verdicts().get(1).uniformity() < r.verdicts().get(0).uniformity(), "noise is the most uniform");
        assertTrue(r.excluded().isEmpty(), "two independent priors: nobody can be outvoted " + r.reasons());
        assertEquals(0, r.reference(), r.verdicts().toString());
        assertFalse(r.referenceVerified(), "two independent priors cannot verify a reference");
        assertEquals(2, r.independentPriors());
        assertEquals(List.of(0, 1, 0), r.verdicts().stream().map(Screening.Verdict::group).toList());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("2 participants brought")), r.notes().toString());
        // two different priors that disagree, one participant each: nothing tells them apart, and it is said
        Screening.Result pair = Screening.screen(all.subList(0, 2));
        assertFalse(pair.referenceVerified());
        assertTrue(pair.excluded().isEmpty());
    }

    @Test
    void aPriorBroughtThreeTimesHasOneVoteAgainstTwoIndependentOnes() {
        int m = 200;
        double[][] z = latent(m, 6, 44);
        double[][] unrelated = latent(m, 6, 45);
        float[] a = view(unrelated, 8, 6, 0.1);
        List<SharedOutputs> all = List.of(outputs("a1", a, 8, 0), outputs("a2", rerun(a, 1e-4, 46), 8, 0),
                outputs("a3", rerun(a, 1e-4, 47), 8, 0), outputs("b", view(z, 8, 7, 0.1), 8, 0),
                outputs("c", view(z, 10, 8, 0.1), 10, 0));
        Screening.Result r = Screening.screen(all);
        // three groups: {a1, a2, a3}, {b}, {c}; b and c predict each other, nobody predicts a
        assertEquals(List.of(0, 0, 0, 3, 4), r.verdicts().stream().map(Screening.Verdict::group).toList());
        assertEquals(List.of(false, false, false, true, true), r.verdicts().stream().map(Screening.Verdict::trusted).toList(),
                r.verdicts().toString());
        assertTrue(r.verdicts().get(1).reason().contains("predicted by 0 of the 2 other independent priors"),
                r.verdicts().get(1).reason());
        assertTrue(r.reference() == 3 || r.reference() == 4);
        assertFalse(r.referenceVerified(), "two trusted independent priors remain");
    }

    @Test
    void threeIndependentPriorsVerifyTheReferenceAndACopyJoinsItsGroup() {
        int m = 200;
        double[][] z = latent(m, 6, 48);
        float[] a = view(z, 8, 9, 0.1);
        List<SharedOutputs> all = List.of(outputs("a", a, 8, 0), outputs("b", view(z, 8, 10, 0.1), 8, 0),
                outputs("c", view(z, 8, 11, 0.1), 8, 0), outputs("copy-of-a", a.clone(), 8, 0),
                outputs("noise", gaussian(m * 8, 49), 8, 0));
        Screening.Result r = Screening.screen(all);
        assertEquals(List.of(true, true, true, true, false), r.verdicts().stream().map(Screening.Verdict::trusted).toList(),
                r.verdicts().toString());
        assertEquals(0, r.verdicts().get(3).group(), "the copy is in a's group, one vote with it");
        assertTrue(r.verdicts().get(4).reason().contains("of the 3 other independent priors"), r.verdicts().get(4).reason());
        assertTrue(r.referenceVerified());
        assertEquals(3, r.independentPriors());
        assertTrue(r.reference() < 3, "a group's first participant is the reference");
    }
}
