package ai.coopt.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One reusable native buffer through which float arrays from the Java heap become engine arrays.
 *
 * <p>Given a heap array, DJL's PyTorch binding copies it into a fresh direct {@code ByteBuffer} and makes a tensor
 * that aliases it; that native memory returns only when the garbage collector finds the buffer unreachable, which
 * a loop producing little heap garbage (PCA blocks, prior batches) may not trigger for a long time, so the process
 * grows with the number of batches. A staging buffer is allocated once (grown when a larger batch comes) and
 * refilled for each array. The array it returns aliases the buffer: it must be closed (with its sub-manager)
 * before this staging buffer makes the next one. Not thread-safe: one per loop.
 */
public final class Staging {
    private ByteBuffer buffer;

    /**
     * An engine array of {@code shape} holding {@code values[offset .. offset + shape.size())}, in {@code manager}.
     * Valid until this staging buffer makes its next array.
     */
    public NDArray create(NDManager manager, float[] values, int offset, Shape shape) {
        int n = Math.toIntExact(shape.size());
        int bytes = Math.multiplyExact(n, Float.BYTES);
        if (buffer == null || buffer.capacity() < bytes) {
            buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        }
        buffer.clear();
        buffer.asFloatBuffer().put(values, offset, n);
        buffer.limit(bytes);
        return manager.create(buffer, shape, DataType.FLOAT32);
    }
}
