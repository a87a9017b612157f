package ai.coopt.prior;

import ai.coopt.data.ImageSet;

/**
 * Turns a data set's uint8 images into a prior's input: channel conversion (gray replicated to
 * RGB; RGB to gray by ITU-R 601 luma), bilinear resize (half-pixel centres, as PyTorch's
 * {@code interpolate(mode="bilinear", align_corners=False)}), then per-channel normalisation.
 * Stateless and thread-safe: worker threads prepare batches with it.
 */
public final class InputAdapter {
    private final int srcC;
    private final int srcH;
    private final int srcW;
    private final InputSpec target;
    private final float[] mean;
    private final float[] std;

    public InputAdapter(ImageSet data, InputSpec target) {
        this.srcC = data.channels();
        this.srcH = data.height();
        this.srcW = data.width();
        this.target = target;
        this.mean = target.mean();
        this.std = target.std();
    }

    /** What the adaptation does, for provenance, e.g. {@code 1x28x28 -> 3x224x224: gray to RGB, bilinear resize}. */
    public String description() {
        StringBuilder what = new StringBuilder();
        if (srcC != target.channels()) {
            what.append(srcC == 1 ? "gray replicated to RGB" : "RGB to gray (ITU-R 601 luma)");
        }
        if (srcH != target.height() || srcW != target.width()) {
            what.append(what.length() > 0 ? ", " : "").append("bilinear resize");
        }
        what.append(what.length() > 0 ? ", " : "").append("normalised with mean/std per channel");
        return srcC + "x" + srcH + "x" + srcW + " -> " + target.channels() + "x" + target.height() + "x"
                + target.width() + ": " + what;
    }

    /** Floats per adapted image. */
    public int size() {
        return target.channels() * target.height() * target.width();
    }

    /** Writes image {@code index} of {@code data}, adapted, into {@code out} at {@code offset} (C×H×W). */
    public void adapt(ImageSet data, int index, float[] out, int offset) {
        adapt(data.image(index), out, offset);
    }

    /** Writes {@code px}, one source image (C×H×W bytes), adapted, into {@code out} at {@code offset}. */
    public void adapt(byte[] px, float[] out, int offset) {
        int outH = target.height();
        int outW = target.width();
        int plane = outH * outW;
        float scaleY = (float) srcH / outH;
        float scaleX = (float) srcW / outW;
        boolean resize = srcH != outH || srcW != outW;
        for (int c = 0; c < target.channels(); c++) {
            int o = offset + c * plane;
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    float v = resize ? bilinear(px, y, x, scaleY, scaleX, c) : source(px, y * srcW + x, c);
                    out[o + y * outW + x] = (v / 255f - mean[c]) / std[c];
                }
            }
        }
    }

    private float bilinear(byte[] px, int y, int x, float scaleY, float scaleX, int c) {
        float sy = Math.max(0f, (y + 0.5f) * scaleY - 0.5f);
        float sx = Math.max(0f, (x + 0.5f) * scaleX - 0.5f);
        int y0 = Math.min((int) sy, srcH - 1);
        int x0 = Math.min((int) sx, srcW - 1);
        int y1 = Math.min(y0 + 1, srcH - 1);
        int x1 = Math.min(x0 + 1, srcW - 1);
        float fy = sy - y0;
        float fx = sx - x0;
        float top = source(px, y0 * srcW + x0, c) * (1 - fx) + source(px, y0 * srcW + x1, c) * fx;
        float bottom = source(px, y1 * srcW + x0, c) * (1 - fx) + source(px, y1 * srcW + x1, c) * fx;
        return top * (1 - fy) + bottom * fy;
    }

    /** Pixel at {@code pos} (y·W + x) of the source image, in the target's channel {@code c}. */
    private float source(byte[] px, int pos, int c) {
        int plane = srcH * srcW;
        if (srcC == target.channels()) {
            return px[c * plane + pos] & 0xFF;
        }
        if (srcC == 1) {
            return px[pos] & 0xFF;
        }
        return 0.299f * (px[pos] & 0xFF) + 0.587f * (px[plane + pos] & 0xFF)
                + 0.114f * (px[2 * plane + pos] & 0xFF);
    }
}
