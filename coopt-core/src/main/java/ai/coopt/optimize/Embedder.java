package ai.coopt.optimize;

import ai.coopt.UserException;
import ai.coopt.data.BatchLoader;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ViewBatch;
import ai.coopt.engine.MemoryBudget;
import ai.coopt.prior.InputAdapter;
import ai.coopt.prior.Prior;
import ai.coopt.store.RowFile;
import ai.coopt.store.RowSink;
import ai.coopt.store.Rows;
import ai.coopt.store.Scratch;
import ai.coopt.util.ProgressListener;

/**
 * Runs a prior over every image of a set, in order: worker threads adapt batches to the prior's
 * input (resize, channels, normalisation) ahead of the engine, which embeds them on this thread.
 */
public final class Embedder {
    /**
     * The outputs, one row per image in order (in memory, or in a file the caller closes and deletes), with how
     * fast they came and how the images were adapted to the prior.
     */
    public record Result(Rows outputs, double seconds, String adaptation) {
        public int count() {
            return outputs.count();
        }

        public int dim() {
            return outputs.dim();
        }

        public double imagesPerSecond() {
            return count() / seconds;
        }

        /** The outputs as one array, row-major (no copy when they are in memory). */
        public float[] values() {
            return outputs instanceof Matrix m ? m.values() : outputs.toArray();
        }
    }

    private final int batchSize;
    private final int workers;

    /**
     * @param batchSize images per engine call
     * @param workers threads preparing batches (one is enough for small images on two cores)
     */
    public Embedder(int batchSize, int workers) {
        if (batchSize < 1 || workers < 1) {
            throw new IllegalArgumentException("batch size and workers must be positive");
        }
        this.batchSize = batchSize;
        this.workers = workers;
    }

    /**
     * Embeds all of {@code data} into memory, for sets known to be small (the shared subset, a probe's features);
     * {@code progress} hears the number of images done.
     */
    public Result embed(Prior prior, ImageSet data, String task, ProgressListener progress) {
        int n = data.count();
        int dim = prior.outputDim();
        if ((long) n * dim > Integer.MAX_VALUE - 8) {
            throw new UserException(n + " outputs of width " + dim + " do not fit in memory at once; use fewer images");
        }
        Matrix.Filler out = Matrix.filler(n, dim);
        Run run = run(prior, data, task, progress, out);
        return new Result(out.matrix(), run.seconds(), run.adaptation());
    }

    /**
     * Embeds all of {@code data} into the new file {@code name} of {@code scratch}, batch by batch, so the outputs of
     * any number of images pass through memory one batch at a time. The result's rows are that file, open for
     * reading until {@code scratch} closes.
     */
    public Result embed(Prior prior, ImageSet data, String task, ProgressListener progress, Scratch scratch, String name) {
        try (RowFile.Writer out = scratch.rows(name, prior.outputDim())) {
            Run run = run(prior, data, task, progress, out);
            return new Result(scratch.keep(out.finish()), run.seconds(), run.adaptation());
        }
    }

    private record Run(double seconds, String adaptation) {}

    private Run run(Prior prior, ImageSet data, String task, ProgressListener progress, RowSink out) {
        InputAdapter adapter = new InputAdapter(data, prior.input());
        int n = data.count();
        int perCall = MemoryBudget.batchThatFits(batchSize, prior.activationBytesPerImage());
        int batches = (n + perCall - 1) / perCall;
        progress.start(task, n, "img");
        long t0 = System.nanoTime();
        try (BatchLoader loader = BatchLoader.of(batches, workers, b -> adapted(data, adapter, b, perCall))) {
            int done = 0;
            for (ViewBatch batch : loader) {
                float[] y = prior.embed(batch.view1(), batch.size());
                out.write(y, 0, batch.size());
                done += batch.size();
                progress.advance(done);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        progress.finish();
        return new Run(seconds, adapter.description());
    }

    private static ViewBatch adapted(ImageSet data, InputAdapter adapter, int b, int batch) {
        int start = b * batch;
        int size = Math.min(batch, data.count() - start);
        int[] idx = new int[size];
        float[] x = new float[size * adapter.size()];
        byte[] image = new byte[data.imageSize()];
        for (int i = 0; i < size; i++) {
            idx[i] = start + i;
            data.readImage(start + i, image, 0);
            adapter.adapt(image, x, i * adapter.size());
        }
        return new ViewBatch(idx, x, null, null, 0, 0, 0);
    }
}
