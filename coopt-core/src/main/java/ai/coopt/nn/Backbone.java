package ai.coopt.nn;

import ai.djl.nn.Block;

/**
 * A feature extractor without classifier: maps N×C×H×W images to N×{@code featureDim} features.
 *
 * @param arch the architecture name it was built from (see {@link Architectures})
 * @param block the DJL block, not yet initialised
 * @param featureDim the width of the feature vector it produces
 */
public record Backbone(String arch, Block block, int featureDim) {}
