package ai.coopt.optimize;

import ai.coopt.engine.Precision;
import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.prior.InputSpec;
import ai.coopt.prior.Prior;
import ai.coopt.prior.Priors;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.RowFile;
import ai.coopt.store.Rows;
import ai.coopt.store.Scratch;
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

import static ai.coopt.Setting.DIM;

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
                         int uniformitySubset, String adaptation, double seconds, int skippedImages,
                         ai.coopt.data.Subset subset, Precision precision) {}

    private DataOptimization() {}

    /**
     * Runs the whole step. Bad input (spec, output directory, impossible {@code dim}) is refused
     * before the prior runs.
     *
     * @param created when and by what command the dataset is made (its seed is taken from {@code settings})
     */
    public static Result run(DatasetSpec data, String split, int limit, String priorSpec, Path out, Settings settings,
                             Device device, ProgressListener progress, ManifestProvenance.Created created) {
        return run(data, split, limit, priorSpec, out, settings, device, Precision.FP32, progress, created);
    }

    /** As above, the prior computing in {@code precision} where it can ({@link Priors#open(String, ImageSet, Device, Precision)}). */
    public static Result run(DatasetSpec data, String split, int limit, String priorSpec, Path out, Settings settings,
                             Device device, Precision precision, ProgressListener progress,
                             ManifestProvenance.Created created) {
        long t0 = System.nanoTime();
        Priors.check(priorSpec);
        checkWritable(out);
        if (settings.dim() < 0) {
            throw new UserException(names -> names.of(DIM) + " must be positive (or 0 for the prior's width), not "
                    + settings.dim());
        }
        ImageSet images = data.load(split, limit);
        if (images.count() < 2) {
            throw new UserException(images.source() + " has " + images.count() + " image(s); optimization needs at least 2");
        }
        try (Prior prior = Priors.open(priorSpec, images, device, precision); Scratch scratch = Scratch.beside(out)) {
            targetDim(settings.dim(), prior.outputDim(), images.count());
            Embedder.Result raw = new Embedder(settings.batchSize(), 1).embed(prior, images, "prior outputs", progress,
                    scratch, "outputs");
            int[] subset = Subsets.random(images.count(), settings.uniformitySubset(), settings.seed());
            double uniformity = Uniformity.ofOutputs(raw.outputs(), subset);

            Postprocessed post = postprocess(raw.outputs(), settings.dim(), scratch, progress);

            long[] ids = new long[images.count()];
            Arrays.setAll(ids, images::sourceId);
            ManifestProvenance provenance = new ManifestProvenance(
                    ManifestProvenance.Source.of(data.spec(), split, images),
                    new ManifestProvenance.Postprocess(post.dim(), post.explainedVariance(), true),
                    List.of(new ManifestProvenance.Participant(prior.spec(), prior.kind(), prior.weightsSha256(),
                            input(prior, raw.adaptation()), prior.outputDim(), uniformity, subset.length,
                            new ManifestProvenance.Shard(images.count(), ids[0], ids[ids.length - 1]),
                            prior.precision().label())),
                    null,
                    new ManifestProvenance.Created(created.time(), created.toolVersion(), created.commandLine(),
                            settings.seed()));
            OptimizedDataset.RawOutputs kept = new OptimizedDataset.RawOutputs(List.of(raw.outputs()), List.of(ids));
            OptimizedDataset.write(out, post.targets(), ids, provenance, kept);
            return new Result(out, prior.spec(), images.count(), prior.outputDim(), post.dim(), raw.seconds(),
                    raw.imagesPerSecond(), post.seconds(), post.explainedVariance(), uniformity, subset.length,
                    raw.adaptation(), (System.nanoTime() - t0) / 1e9, images.skipped(), images.drawn(),
                    prior.precision());
        }
    }

    /** Targets made from raw outputs: their width, the share of variance kept, and the time it took. */
    public record Postprocessed(Rows targets, int dim, double explainedVariance, double seconds) {}

    /**
     * ReLA's post-processing in memory: PCA to {@code requestedDim} (0 = the outputs' width capped at
     * {@value #DEFAULT_MAX_DIM}, the number of rows and the numerical rank) then per-dimension standardisation. The
     * targets are a {@link Matrix}.
     */
    public static Postprocessed postprocess(Matrix outputs, int requestedDim) {
        long t0 = System.nanoTime();
        Pca pca = fitPca(outputs, requestedDim);
        Matrix targets = pca.transform(outputs);
        Standardization.standardize(targets);
        return new Postprocessed(targets, pca.k(), Math.min(1.0, pca.explainedVarianceRatioSum()),
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The same post-processing for rows of any number, in streaming passes: the mean and the float64 covariance
     * are accumulated block by block, the projection is written to a file of {@code scratch}, and the standardisation
     * is applied as the targets are read. Gives the same bits as {@link #postprocess(Matrix, int)}. {@code progress}
     * hears the rows read by the three passes (mean, covariance, projection).
     */
    public static Postprocessed postprocess(Rows outputs, int requestedDim, Scratch scratch, ProgressListener progress) {
        long t0 = System.nanoTime();
        progress.start("PCA to targets", 3L * outputs.count(), "rows");
        Rows counted = counted(outputs, progress);
        Pca pca = fitPca(counted, requestedDim);
        RowFile scores;
        try (RowFile.Writer w = scratch.rows("pca", pca.k())) {
            pca.transform(counted, w);
            scores = scratch.keep(w.finish());
        }
        progress.finish();
        Rows targets = Standardization.fit(scores).view(scores);
        return new Postprocessed(targets, pca.k(), Math.min(1.0, pca.explainedVarianceRatioSum()),
                (System.nanoTime() - t0) / 1e9);
    }

    /** {@code rows} telling {@code progress} how many rows have been read through it so far. */
    private static Rows counted(Rows rows, ProgressListener progress) {
        long[] read = new long[1];
        return rows.onRead((first, n, dst, offset) -> {
            read[0] += n;
            progress.advance(read[0]);
        });
    }

    /** PCA fitted on {@code outputs}, cut to the target width (see {@link #postprocess(Matrix, int)}). */
    private static Pca fitPca(Rows outputs, int requestedDim) {
        targetDim(requestedDim, outputs.dim(), outputs.count());
        Pca full = Pca.fit(outputs, Math.min(outputs.dim(), outputs.count()));
        int dim = withinRank(targetDim(requestedDim, outputs.dim(), outputs.count()), requestedDim, full.rank());
        return full.first(dim);
    }

    /** What a prior was given, as the manifest records it: its input size and normalisation, and how images were adapted. */
    public static ManifestProvenance.Input input(Prior prior, String adaptation) {
        InputSpec in = prior.input();
        return new ManifestProvenance.Input(in.channels(), in.height(), in.width(), doubles(in.mean()), doubles(in.std()),
                adaptation);
    }

    private static int targetDim(int requested, int priorDim, int count) {
        int dim = requested == 0 ? Math.min(Math.min(priorDim, DEFAULT_MAX_DIM), count) : requested;
        if (dim > priorDim) {
            throw new UserException(names -> names.of(DIM) + " " + dim + " is wider than the prior's output ("
                    + priorDim + ")");
        }
        if (dim > count) {
            throw new UserException(names -> names.of(DIM) + " " + dim
                    + " needs at least as many images; the data has " + count);
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
        throw new UserException(names -> names.of(DIM) + " " + requested
                + " exceeds the rank of the prior's outputs on this data (" + rank
                + "): the components beyond it carry no variance; use " + names.of(DIM) + " " + rank + " or less");
    }

    /** Refuses, before any work, an output path that an optimized dataset may not be written to. */
    public static void checkWritable(Path out) {
        AtomicFiles.checkWritable(out, OptimizedDataset.KIND);
    }

    private static List<Double> doubles(float[] v) {
        List<Double> out = new ArrayList<>(v.length);
        for (float f : v) {
            out.add((double) f);
        }
        return out;
    }
}
