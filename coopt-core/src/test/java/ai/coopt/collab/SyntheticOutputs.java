package ai.coopt.collab;

import ai.coopt.store.ManifestProvenance;

import java.util.List;
import java.util.SplittableRandom;

/** Priors' outputs made up for the screening and fusion tests: honest views of shared latent factors, and noise. */
final class SyntheticOutputs {
    private SyntheticOutputs() {}

    /** m samples' latent factors, f per sample, standard normal. */
    static double[][] latent(int m, int f, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] z = new double[m][f];
        for (double[] row : z) {
            for (int k = 0; k < f; k++) {
                row[k] = r.nextGaussian();
            }
        }
        return z;
    }

    /** An honest prior's outputs: a random linear view of the latent factors plus Gaussian noise of scale {@code noise}. */
    static float[] view(double[][] latent, int dim, long seed, double noise) {
        SplittableRandom r = new SplittableRandom(seed);
        int f = latent[0].length;
        double[][] a = new double[f][dim];
        for (double[] row : a) {
            for (int j = 0; j < dim; j++) {
                row[j] = r.nextGaussian();
            }
        }
        float[] out = new float[latent.length * dim];
        for (int i = 0; i < latent.length; i++) {
            for (int j = 0; j < dim; j++) {
                double v = noise * r.nextGaussian();
                for (int k = 0; k < f; k++) {
                    v += latent[i][k] * a[k][j];
                }
                out[i * dim + j] = (float) v;
            }
        }
        return out;
    }

    static float[] gaussian(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** A participant's outputs on S with a made-up prior report (the reported uniformity is never trusted). */
    static SharedOutputs outputs(String id, float[] values, int dim, double reportedUniformity) {
        PriorReport p = new PriorReport("prior-of-" + id, "random", "a".repeat(64),
                new ManifestProvenance.Input(1, 8, 8, List.of(0.5), List.of(0.25), "none"), dim, reportedUniformity,
                values.length / dim);
        return new SharedOutputs(id, p, values, 0, 0);
    }
}
