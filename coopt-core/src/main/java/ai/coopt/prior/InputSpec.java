package ai.coopt.prior;

import java.util.Arrays;

/**
 * What a prior takes as input: image channels and size, and the per-channel normalisation
 * {@code (pixel/255 - mean) / std} applied before it.
 */
public record InputSpec(int channels, int height, int width, float[] mean, float[] std) {
    public InputSpec {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("a prior takes 1 or 3 channels, not " + channels);
        }
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("bad input size " + height + "x" + width);
        }
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException("normalisation needs " + channels + " values per statistic");
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** The normalisation torchvision's ImageNet models (and most public priors) expect. */
    public static InputSpec imagenet(int height, int width) {
        return new InputSpec(3, height, width, new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    @Override
    public String toString() {
        return channels + "x" + height + "x" + width + " mean " + Arrays.toString(mean) + " std " + Arrays.toString(std);
    }
}
