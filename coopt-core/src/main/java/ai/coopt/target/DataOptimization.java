package ai.coopt.target;

import ai.coopt.UserException;
import ai.coopt.data.DatasetSpec;
import ai.coopt.data.ImageSet;
import ai.coopt.prior.InputSpec;
import ai.coopt.prior.Prior;
import ai.coopt.prior.Priors;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.Tensor;
import ai.coopt.util.ProgressListener;
import ai.coopt.util.Subsets;
import ai.djl.Device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Data optimization for one participant (ReLA's data step, CoOpt's phase 2): a prior turns every
 * image of a split into a raw output; the outputs are reduced by PCA and standardised per dimension
 * into targets, and written with full provenance as an optimized dataset. The raw outputs are kept
 * beside the targets.
 */
public final class DataOptimization {
    /** The widest targets made when {@code --dim} is not given. */
    public static final int DEFAULT_MAX_DIM = 512;

    /**
     * @param dim target width after PCA; 0 = the prior's output width capped at {@value #DEFAULT_MAX_DIM},
     *     at the number of images and at the outputs' numerical rank
     * @param batchSize images per prior call
     * @param uniformitySubset samples the prior's uniformity is measured on (a seeded random subset)
     * @param seed seeds the uniformity subset (and is recorded)
     */
    public record Settings(int dim, int batchSize, int uniformitySubset, long seed) {
        public static Settings defaults() {
            return new Settings(0, 256, 1000, 0);
        }
    }

    /** What was made and how long it took. */
    public record Result(Path out, String prior, int count, int priorDim, int dim, double embedSeconds,
                         double imagesPerSecond, double pcaSeconds, double explainedVariance, double uniformity,
                         int uniformitySubset, String adaptation, double seconds, int skippedImages) {}

    private DataOptimization() {}

    /**
     * Runs the whole step. Bad input (spec, output directory, impossible {@code dim}) is refused
     * before the prior runs.
     *
     * @param created when and by what command the dataset is made (its seed is taken from {@code settings})
     */
    public static Result run(DatasetSpec data, String split, int limit, String priorSpec, Path out, Settings settings,
                             Device device, ProgressListener progress, ManifestProvenance.Created created) {
        long t0 = System.nanoTime();
        Priors.check(priorSpec);
        checkWritable(out);
        if (settings.dim() < 0) {
            throw new UserException("--dim must be positive (or 0 for the prior's width), not " + settings.dim());
        }
        ImageSet images = data.load(split, limit);
        if (images.count() < 2) {
            throw new UserException(images.source() + " has " + images.count() + " image(s); optimization needs at least 2");
        }
        try (Prior prior = Priors.open(priorSpec, images, device)) {
            targetDim(settings.dim(), prior.outputDim(), images.count());
            Embedder.Result raw = new Embedder(settings.batchSize(), 1).embed(prior, images, "prior outputs", progress);
            int[] subset = Subsets.random(images.count(), settings.uniformitySubset(), settings.seed());
            double uniformity = Uniformity.value(rows(raw.outputs(), raw.dim(), subset), subset.length, raw.dim(),
                    Uniformity.DEFAULT_T);

            Postprocessed post = postprocess(new Matrix(raw.outputs(), raw.count(), raw.dim()), settings.dim());
            int dim = post.dim();
            double explained = post.explainedVariance();
            double pcaSeconds = post.seconds();
            Matrix targets = post.targets();

            long[] ids = new long[images.count()];
            Arrays.setAll(ids, i -> i);
            ManifestProvenance provenance = new ManifestProvenance(
                    new ManifestProvenance.Source(data.spec(), split, images.count(), images.fingerprint(),
                        images.skipped()),
                    new ManifestProvenance.Postprocess(dim, explained, true),
                    List.of(participant(prior, raw.adaptation(), uniformity, subset.length, images.count(), 0,
                            images.count() - 1L)),
                    null,
                    new ManifestProvenance.Created(created.time(), created.toolVersion(), created.commandLine(),
                            settings.seed()));
            OptimizedDataset.RawOutputs kept = new OptimizedDataset.RawOutputs(
                    List.of(new Tensor.F32(new long[] {raw.count(), raw.dim()}, raw.outputs())),
                    List.of(new Tensor.I64(new long[] {ids.length}, ids)));
            OptimizedDataset.write(out, targets.values(), images.count(), dim, ids, provenance, kept);
            return new Result(out, prior.spec(), images.count(), prior.outputDim(), dim, raw.seconds(),
                    raw.imagesPerSecond(), pcaSeconds, explained, uniformity, subset.length,
                    raw.adaptation(), (System.nanoTime() - t0) / 1e9, images.skipped());
        }
    }

    /** Targets made from raw outputs: their width, the share of variance kept, and the time it took. */
    public record Postprocessed(Matrix targets, int dim, double explainedVariance, double seconds) {}

    /**
     * ReLA's post-processing: PCA to {@code requestedDim} (0 = the outputs' width capped at
     * {@value #DEFAULT_MAX_DIM}, the number of rows and the numerical rank) then per-dimension standardisation.
     */
    public static Postprocessed postprocess(Matrix outputs, int requestedDim) {
        long t0 = System.nanoTime();
        targetDim(requestedDim, outputs.cols(), outputs.rows());
        Pca full = Pca.fit(outputs, Math.min(outputs.cols(), outputs.rows()));
        int dim = withinRank(targetDim(requestedDim, outputs.cols(), outputs.rows()), requestedDim, full.rank());
        Pca pca = full.first(dim);
        Matrix targets = pca.transform(outputs);
        Standardization.standardize(targets);
        return new Postprocessed(targets, dim, Math.min(1.0, pca.explainedVarianceRatioSum()), (System.nanoTime() - t0) / 1e9);
    }

    /** The manifest entry for one participant's prior and the shard of {@code count} ids it labelled. */
    public static ManifestProvenance.Participant participant(Prior prior, String adaptation, double uniformity,
                                                             int subset, int count, long minId, long maxId) {
        InputSpec in = prior.input();
        return new ManifestProvenance.Participant(prior.spec(), prior.kind(), prior.weightsSha256(),
                new ManifestProvenance.Input(in.channels(), in.height(), in.width(), doubles(in.mean()),
                        doubles(in.std()), adaptation),
                prior.outputDim(), uniformity, subset, new ManifestProvenance.Shard(count, minId, maxId));
    }

    private static int targetDim(int requested, int priorDim, int count) {
        int dim = requested == 0 ? Math.min(Math.min(priorDim, DEFAULT_MAX_DIM), count) : requested;
        if (dim > priorDim) {
            throw new UserException("--dim " + dim + " is wider than the prior's output (" + priorDim + ")");
        }
        if (dim > count) {
            throw new UserException("--dim " + dim + " needs at least as many images; the data has " + count);
        }
        return dim;
    }

    /**
     * Keeps the default width within the outputs' numerical rank (components beyond it carry no
     * variance and would standardise to constant columns); refuses an explicit {@code --dim} beyond it.
     */
    private static int withinRank(int dim, int requested, int rank) {
        if (dim <= rank) {
            return dim;
        }
        if (requested == 0) {
            return Math.max(1, rank);
        }
        throw new UserException("--dim " + requested + " exceeds the rank of the prior's outputs on this data (" + rank
                + "): the components beyond it carry no variance; use --dim " + rank + " or less");
    }

    /** Refuses, before any work, an output path that an optimized dataset may not be written to. */
    public static void checkWritable(Path out) {
        AtomicFiles.checkWritable(out, OptimizedDataset.KIND);
    }

    private static float[] rows(float[] x, int d, int[] rows) {
        float[] out = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(x, rows[i] * d, out, i * d, d);
        }
        return out;
    }

    private static List<Double> doubles(float[] v) {
        List<Double> out = new ArrayList<>(v.length);
        for (float f : v) {
            out.add((double) f);
        }
        return out;
    }
}
