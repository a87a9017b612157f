package ai.coopt.nn;

import ai.djl.ndarray.types.Shape;

/**
 * A block that counts the activations its own forward pass holds, for {@link Architectures#activationBytes}. The
 * estimate otherwise counts each layer's output, which is right for convolutions and poolings but far too low for
 * a block like self-attention, whose intermediates (the N×heads×T×T attention weights) are larger than its output
 * and grow with the square of the token count, hence with the square of the image area.
 */
interface ActivationCount {

    /** Float elements held for one input of shape {@code in}, output included (see {@link Elements}). */
    Elements activationElements(Shape in);

    /**
     * Element counts split by how they grow with the input image: {@code area} in proportion to its area (every
     * convolutional map; tokens), {@code areaSquared} in proportion to its square (token × token maps).
     * {@link Architectures} measures both at a reference size and extrapolates each by its own power.
     */
    record Elements(long area, long areaSquared) {
        static final Elements NONE = new Elements(0, 0);

        static Elements ofArea(long elements) {
            return new Elements(elements, 0);
        }

        Elements plus(Elements other) {
            return new Elements(area + other.area, areaSquared + other.areaSquared);
        }

        long total() {
            return area + areaSquared;
        }
    }
}
