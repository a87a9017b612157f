package ai.coopt.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Computes the content of each batch of one epoch: which images, and their normalised
 * (and possibly augmented) views. Stateless between calls and safe to call from several
 * threads; batch b is the same whichever thread computes it and whenever.
 */
final class BatchAssembler {
    private final ImageSet set;
    private final int[] order;
    private final int batchSize;
    private final int batches;
    private final Normalization normalization;
    private final Augmentation augmentation;
    private final int views;
    private final MultiCrop multiCrop;
    private final Augmentation local;
    private final long seed;
    private final int epoch;

    BatchAssembler(ImageSet set, int[] order, int batchSize, boolean dropLast, Normalization normalization,
                   Augmentation augmentation, int views, MultiCrop multiCrop, long seed, int epoch) {
        this.set = set;
        this.order = order;
        this.batchSize = batchSize;
        this.batches = dropLast ? order.length / batchSize : (order.length + batchSize - 1) / batchSize;
        this.normalization = normalization;
        this.augmentation = augmentation;
        this.views = views;
        this.multiCrop = multiCrop;
        this.local = multiCrop.any()
                ? new Augmentation(augmentation.params().withScale(multiCrop.scaleMin(), multiCrop.scaleMax())) : null;
        this.seed = seed;
        this.epoch = epoch;
    }

    int batches() {
        return batches;
    }

    /**
     * Batch {@code b} of the epoch. Each augmented image draws from its own generator, seeded from
     * (seed, epoch, position in the order), so the views do not depend on batching or threads.
     * Stops early with {@link InterruptedException} semantics when the thread is interrupted. Small views (multi-crop)
     * draw from the same generator after the two full-size ones, so those are the same with or without them.
     */
    ViewBatch assemble(int b) throws InterruptedException {
        int start = b * batchSize;
        int[] indices = Arrays.copyOfRange(order, start, Math.min(start + batchSize, order.length));
        int size = set.imageSize();
        float[] view1 = new float[indices.length * size];
        float[] view2 = views == 2 ? new float[view1.length] : null;
        int localSize = multiCrop.size();
        int localImage = set.channels() * localSize * localSize;
        int localView = indices.length * localImage;
        float[] locals = local == null ? null : new float[multiCrop.count() * localView];
        if (augmentation == null) {
            normalization.toFloats(set, indices, view1);
            if (view2 != null) {
                System.arraycopy(view1, 0, view2, 0, view1.length);
            }
        } else {
            byte[] image = new byte[size];
            for (int i = 0; i < indices.length; i++) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                SplittableRandom rng = new SplittableRandom(Randomness.mix(seed, Randomness.AUGMENT, epoch, start + i));
                set.readImage(indices[i], image, 0);
                augmentation.augment(image, set.channels(), set.height(), set.width(), normalization, rng, view1, i * size);
                if (view2 != null) {
                    augmentation.augment(image, set.channels(), set.height(), set.width(), normalization, rng, view2,
                            i * size);
                }
                for (int v = 0; local != null && v < multiCrop.count(); v++) {
                    local.augment(image, set.channels(), set.height(), set.width(), localSize, localSize, normalization,
                            rng, locals, v * localView + i * localImage);
                }
            }
        }
        int[] labels = null;
        if (set.hasLabels()) {
            labels = new int[indices.length];
            for (int i = 0; i < indices.length; i++) {
                labels[i] = set.labels()[indices[i]];
            }
        }
        return new ViewBatch(indices, view1, view2, labels, set.channels(), set.height(), set.width(), locals,
                locals == null ? 0 : multiCrop.count(), locals == null ? 0 : localSize);
    }
}
