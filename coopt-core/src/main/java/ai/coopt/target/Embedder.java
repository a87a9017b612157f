package ai.coopt.target;

import ai.coopt.UserException;
import ai.coopt.data.BatchLoader;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ViewBatch;
import ai.coopt.engine.MemoryBudget;
import ai.coopt.prior.InputAdapter;
import ai.coopt.prior.Prior;
import ai.coopt.util.ProgressListener;

/**
 * Runs a prior over every image of a set, in order: worker threads adapt batches to the prior's
 * input (resize, channels, normalisation) ahead of the engine, which embeds them on this thread.
 */
public final class Embedder {
    /** The outputs, {@code count × dim} row-major, with how fast they came. */
    public record Result(float[] outputs, int count, int dim, double seconds, String adaptation) {
        public double imagesPerSecond() {
            return count / seconds;
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

    /** Embeds all of {@code data}; {@code progress} hears the number of images done. */
    public Result embed(Prior prior, ImageSet data, String task, ProgressListener progress) {
        InputAdapter adapter = new InputAdapter(data, prior.input());
        int n = data.count();
        int dim = prior.outputDim();
        if ((long) n * dim > Integer.MAX_VALUE - 8) {
            throw new UserException(n + " outputs of width " + dim + " do not fit in memory at once; use fewer images");
        }
        float[] out = new float[n * dim];
        int perCall = MemoryBudget.batchThatFits(batchSize, prior.activationBytesPerImage());
        int batches = (n + perCall - 1) / perCall;
        progress.start(task, n, "img");
        long t0 = System.nanoTime();
        try (BatchLoader loader = BatchLoader.of(batches, workers, b -> adapted(data, adapter, b, perCall))) {
            int done = 0;
            for (ViewBatch batch : loader) {
                float[] y = prior.embed(batch.view1(), batch.size());
                System.arraycopy(y, 0, out, done * dim, batch.size() * dim);
                done += batch.size();
                progress.advance(done);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        progress.finish();
        return new Result(out, n, dim, seconds, adapter.description());
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
