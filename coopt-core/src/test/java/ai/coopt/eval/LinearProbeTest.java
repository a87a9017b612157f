package ai.coopt.eval;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearProbeTest {
    /** Three Gaussian clusters in 8 dimensions, far apart: linearly separable, with a large offset and scale. */
    private static Features clusters(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int dim = 8;
        float[] v = new float[n * dim];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
            for (int j = 0; j < dim; j++) {
                double centre = (j == labels[i] ? 6 : 0);
                v[i * dim + j] = (float) (1000 + 50 * (centre + rng.nextGaussian()));
            }
        }
        return new Features(v, n, dim, labels);
    }

    @Test
    void separableClustersAreLearnedAndTop1IsTheMeanOfTheLastThreeEpochs() {
        LinearProbe.Result r = new LinearProbe(new LinearProbe.Settings(20, 32, 3e-2f, 1))
                .fit(clusters(300, 1), clusters(150, 2), Device.cpu());
        assertEquals(20, r.testAccuracyPerEpoch().size());
        double lastThree = r.testAccuracyPerEpoch().subList(17, 20).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertEquals(lastThree, r.top1(), 1e-12);
        assertTrue(r.top1() > 0.97, "top1 " + r.top1());
        assertEquals(3, r.classes());
        assertEquals(8, r.featureDim());
    }

    @Test
    void sameSeedSameResult() {
        LinearProbe.Settings s = new LinearProbe.Settings(5, 32, 1e-3f, 3);
        double a = new LinearProbe(s).fit(clusters(120, 1), clusters(60, 2), Device.cpu()).top1();
        double b = new LinearProbe(s).fit(clusters(120, 1), clusters(60, 2), Device.cpu()).top1();
        assertEquals(a, b);
    }

    /** A first-N cut of a folder sorted by class held one class, and the probe printed top-1 0.20 with no warning. */
    @Test
    void aTrainingSplitOfOneClassIsRefused() {
        Features oneClass = new Features(clusters(8, 1).values(), 8, 8, new int[8]);
        UserException e = assertThrows(UserException.class, () -> new LinearProbe(new LinearProbe.Settings(2, 4, 1e-3f, 1))
                .fit(oneClass, clusters(20, 2), Device.cpu()));
        assertTrue(e.getMessage().startsWith("the probe's training split holds one class only (label 0, 8 examples)"),
                e.getMessage());
        int[] sevenThenOne = {7, 7, 7, 7, 7, 7, 7, 1};
        LinearProbe.requireSeveralClasses(sevenThenOne, "two classes");
        assertThrows(UserException.class, () -> LinearProbe.requireSeveralClasses(new int[0], "nothing"));
    }

    /** The evaluation refuses such a split before it opens the prior or computes a single feature. */
    @Test
    void anEvaluationOfOneClassIsRefusedBeforeAnyFeature() {
        ImageSet train = new ImageSet("first 6 files of a sorted folder", new byte[6 * 4 * 4], 6, 1, 4, 4, new int[6]);
        ImageSet test = new ImageSet("test", new byte[2 * 4 * 4], 2, 1, 4, 4, new int[] {0, 1});
        UserException e = assertThrows(UserException.class, () -> LinearEvaluation.run("random:convnet-s:0", train, test,
                LinearProbe.Settings.defaults(), Device.cpu(), ProgressListener.NONE));
        assertTrue(e.getMessage().startsWith("the training split (first 6 files of a sorted folder) holds one class only"),
                e.getMessage());
    }

    @Test
    void unlabeledFeaturesAreRejected() {
        Features unlabeled = new Features(new float[16], 2, 8, null);
        assertThrows(UserException.class,
                () -> new LinearProbe(LinearProbe.Settings.defaults()).fit(unlabeled, clusters(3, 1), Device.cpu()));
    }

    @Test
    void standardisationStatisticsAreExact() {
        Features f = new Features(new float[] {1, 10, 3, 10}, 2, 2, new int[] {0, 1});
        float[][] s = LinearProbe.meanStd(f);
        assertEquals(2f, s[0][0], 1e-6);
        assertEquals(1f, s[1][0], 1e-6);
        assertEquals(10f, s[0][1], 1e-6);
        assertEquals(1e-6f, s[1][1], 1e-9);
    }
}
