package ai.coopt.data;

/**
 * One batch ready for training: the images' indices in their {@link ImageSet}, one or two views
 * as normalised N×C×H×W floats, and the labels when the set has them. Plain arrays: the trainer
 * turns them into tensors.
 *
 * @param indices the images' indices in the set, in batch order
 * @param view1   the first view, {@code size() × channels × height × width} floats
 * @param view2   the second view with the same shape, or {@code null} for a single-view loader
 * @param labels  the images' labels, or {@code null} when the set is unlabeled
 * @param locals  multi-crop's small views, {@code localCount × size() × channels × localSize × localSize} floats
 *                (all images' first small view, then all images' second…), or {@code null} for none
 */
public record ViewBatch(int[] indices, float[] view1, float[] view2, int[] labels,
                        int channels, int height, int width, float[] locals, int localCount, int localSize) {

    /** A batch without small views. */
    public ViewBatch(int[] indices, float[] view1, float[] view2, int[] labels, int channels, int height, int width) {
        this(indices, view1, view2, labels, channels, height, width, null, 0, 0);
    }

    /** The shape of all small views stacked: {localCount × batch, channels, localSize, localSize}. */
    public long[] localShape() {
        return new long[] {(long) localCount * indices.length, channels, localSize, localSize};
    }

    /** The number of images in the batch. */
    public int size() {
        return indices.length;
    }

    /** The shape of each view: {batch, channels, height, width}. */
    public long[] shape() {
        return new long[] {indices.length, channels, height, width};
    }

    /** Whether the batch carries a second view. */
    public boolean hasTwoViews() {
        return view2 != null;
    }
}
