package ai.coopt.platform.bench;

import ai.coopt.data.ImageSet;
import ai.coopt.store.Rows;

import java.util.SplittableRandom;
import java.util.function.IntToLongFunction;

/**
 * Plausible prior outputs for simulated participants, computed on demand (nothing in memory but one participant's
 * small matrix): an image whose pixels hash to {@code key} ({@link #key}) has a fixed latent vector z(key) of width
 * {@value #LATENT} (seeded Gaussian, the same for every participant), and participant k's output is
 * {@code z(key) · W_k + e(k, key)}, with {@code W_k} a
 * random {@value #LATENT} × dim matrix of its own (entries N(0, 1/{@value #LATENT}), so outputs have unit scale) and
 * {@code e} Gaussian noise of {@value #NOISE} times that scale, seeded by participant and sample. So the outputs are
 * neither noise, constant, repeated rows nor a copy of another participant's, every participant's outputs predict
 * every other's linearly (when dim is at least the latent width), and the same image gives the same numbers wherever
 * it is asked for: on a shard, on the shared subset, or in an audit (which shows images without their ids).
 */
public final class SimulatedOutputs {
    /** The width of the latent every participant sees. */
    public static final int LATENT = 16;
    /** The noise's standard deviation, relative to the outputs' scale. */
    public static final double NOISE = 0.01;
    private static final long LATENT_SEED = 0x5EEDL;

    private final int participant;
    private final int dim;
    private final float[] map;

    public SimulatedOutputs(int participant, int dim) {
        if (dim < 1) {
            throw new IllegalArgumentException("dim must be positive");
        }
        this.participant = participant;
        this.dim = dim;
        this.map = new float[LATENT * dim];
        SplittableRandom r = new SplittableRandom(mix(0x3A7L, participant));
        double scale = 1.0 / Math.sqrt(LATENT);
        for (int i = 0; i < map.length; i++) {
            map[i] = (float) (r.nextGaussian() * scale);
        }
    }

    /** The 64-bit FNV-1a hash of an image's pixels: the key its simulated outputs are derived from. */
    public static long key(byte[] pixels) {
        long h = 0xcbf29ce484222325L;
        for (byte b : pixels) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h;
    }

    /** Participant k's output for the image with this key, written into {@code dst} from {@code offset}. */
    public void row(long id, float[] dst, int offset) {
        SplittableRandom latentRandom = new SplittableRandom(mix(LATENT_SEED, id));
        double[] z = new double[LATENT];
        for (int j = 0; j < LATENT; j++) {
            z[j] = latentRandom.nextGaussian();
        }
        SplittableRandom noise = new SplittableRandom(mix(mix(0x4015EL, participant), id));
        for (int c = 0; c < dim; c++) {
            double v = 0;
            for (int j = 0; j < LATENT; j++) {
                v += z[j] * map[j * dim + c];
            }
            dst[offset + c] = (float) (v + NOISE * noise.nextGaussian());
        }
    }

    /** The outputs for these keys, one row per key in order, computed when read. */
    public Rows rows(long[] keys) {
        return rows(keys.length, i -> keys[i]);
    }

    /** The outputs for these images (keyed by {@link #key} of their pixels), one row per image in order. */
    public Rows rows(ImageSet images) {
        return rows(images.count(), i -> key(images.image(i)));
    }

    private Rows rows(int count, IntToLongFunction key) {
        return new Rows() {
            @Override
            public int count() {
                return count;
            }

            @Override
            public int dim() {
                return dim;
            }

            @Override
            public void read(int first, int n, float[] dst, int offset) {
                for (int i = 0; i < n; i++) {
                    row(key.applyAsLong(first + i), dst, offset + i * dim);
                }
            }
        };
    }

    private static long mix(long seed, long value) {
        long z = seed * 0x9E3779B97F4A7C15L + value;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
