package ai.coopt.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArrayValuesTest {

    @Test
    void assignedValuesAreExactAndOutliveTheBufferTheyCameFrom() {
        try (NDManager m = Engines.get().newBaseManager()) {
            NDArray target = m.zeros(new Shape(2, 3));
            float[] values = {-0.0f, 1.5f, Float.MIN_VALUE, -3f, 1e30f, 0.1f};
            ArrayValues.assign(target, values);
            // churn the direct-buffer memory a view of the source would point into
            List<ByteBuffer> churn = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                ByteBuffer b = ByteBuffer.allocateDirect(1 << 16);
                while (b.hasRemaining()) {
                    b.put((byte) 0x7f);
                }
                churn.add(b);
            }
            System.gc();
            float[] back = target.toFloatArray();
            for (int i = 0; i < values.length; i++) {
                assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(back[i]), "element " + i);
            }
            assertEquals(new Shape(2, 3), target.getShape());
            assertEquals(64, churn.size());
        }
    }

    @Test
    void fourDimensionalArraysGetExactValuesInChannelsLastLayout() {
        try (NDManager m = Engines.get().newBaseManager()) {
            NDArray target = m.zeros(new Shape(2, 3, 2, 1));
            float[] values = {-0.0f, 1.5f, Float.MIN_VALUE, -3f, 1e30f, 0.1f, 7f, -8f, 9f, 0f, 11f, -12f};
            ArrayValues.assign(target, values);
            System.gc();
            float[] back = target.toFloatArray();
            for (int i = 0; i < values.length; i++) {
                assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(back[i]), "element " + i);
            }
            assertTrue(LayoutsTest.isChannelsLast(target));
        }
    }

    @Test
    void gradientRecordingIsKept() {
        try (NDManager m = Engines.get().newBaseManager()) {
            NDArray withGrad = m.ones(new Shape(3));
            withGrad.setRequiresGradient(true);
            ArrayValues.assign(withGrad, new float[] {1, 2, 3});
            assertTrue(withGrad.hasGradient());
            NDArray without = m.ones(new Shape(3));
            ArrayValues.assign(without, new float[] {4, 5, 6});
            assertFalse(without.hasGradient());
            assertArrayEquals(new float[] {4, 5, 6}, without.toFloatArray());
        }
    }

    @Test
    void refusesAWrongCount() {
        try (NDManager m = Engines.get().newBaseManager()) {
            NDArray target = m.zeros(new Shape(4));
            assertThrows(IllegalArgumentException.class, () -> ArrayValues.assign(target, new float[3]));
        }
    }
}
