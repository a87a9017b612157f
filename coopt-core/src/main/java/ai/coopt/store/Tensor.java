package ai.coopt.store;

import java.util.Arrays;

/**
 * A dense, row-major tensor held in a Java array, as stored in a safetensors file.
 * The records share the data array they are given (no copy); the shape is copied.
 */
public sealed interface Tensor permits Tensor.F32, Tensor.I64, Tensor.I32, Tensor.U8 {
    /** The element type. */
    DType dtype();

    /** The dimensions, outermost first; empty for a scalar. */
    long[] shape();

    /** The number of elements: the product of the dimensions. */
    int size();

    /** A float32 tensor. */
    record F32(long[] shape, float[] data) implements Tensor {
        /** @throws IllegalArgumentException when the data length is not the product of the shape */
        public F32 {
            shape = checkedShape(shape, data.length);
        }

        @Override
        public DType dtype() {
            return DType.F32;
        }

        @Override
        public int size() {
            return data.length;
        }
    }

    /** An int64 tensor. */
    record I64(long[] shape, long[] data) implements Tensor {
        /** @throws IllegalArgumentException when the data length is not the product of the shape */
        public I64 {
            shape = checkedShape(shape, data.length);
        }

        @Override
        public DType dtype() {
            return DType.I64;
        }

        @Override
        public int size() {
            return data.length;
        }
    }

    /** An int32 tensor. */
    record I32(long[] shape, int[] data) implements Tensor {
        /** @throws IllegalArgumentException when the data length is not the product of the shape */
        public I32 {
            shape = checkedShape(shape, data.length);
        }

        @Override
        public DType dtype() {
            return DType.I32;
        }

        @Override
        public int size() {
            return data.length;
        }
    }

    /** An unsigned 8-bit tensor (pixels): each byte holds 0–255. */
    record U8(long[] shape, byte[] data) implements Tensor {
        /** @throws IllegalArgumentException when the data length is not the product of the shape */
        public U8 {
            shape = checkedShape(shape, data.length);
        }

        @Override
        public DType dtype() {
            return DType.U8;
        }

        @Override
        public int size() {
            return data.length;
        }
    }

    /** A copy of {@code shape}, after checking its dimensions are non-negative and multiply to {@code length}. */
    private static long[] checkedShape(long[] shape, int length) {
        long product = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            product = Math.multiplyExact(product, d);
        }
        if (product != length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + product
                    + " elements, data has " + length);
        }
        return shape.clone();
    }
}
