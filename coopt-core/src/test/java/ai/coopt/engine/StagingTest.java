package ai.coopt.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class StagingTest {
    @Test
    void arraysHoldTheValuesFromTheOffsetAndTheBufferIsReusedAndGrown() {
        Staging staging = new Staging();
        float[] values = {9, 1, 2, 3, 4, 5, 6, 7, 8};
        try (NDManager manager = Engines.get().newBaseManager(Device.cpu())) {
            try (NDManager step = manager.newSubManager()) {
                NDArray a = staging.create(step, values, 1, new Shape(2, 2));
                assertEquals(new Shape(2, 2), a.getShape());
                assertArrayEquals(new float[] {1, 2, 3, 4}, a.toFloatArray());
                // results of operations own their memory: they keep their values when the buffer is refilled
                NDArray doubled = a.mul(2);
                staging.create(step, new float[] {0, 0, 0, 0}, 0, new Shape(4));
                assertArrayEquals(new float[] {2, 4, 6, 8}, doubled.toFloatArray());
            }
            try (NDManager step = manager.newSubManager()) {
                NDArray larger = staging.create(step, values, 0, new Shape(3, 3));
                assertArrayEquals(values, larger.toFloatArray());
                NDArray smaller = staging.create(step, new float[] {-1.5f}, 0, new Shape(1));
                assertArrayEquals(new float[] {-1.5f}, smaller.toFloatArray());
            }
        }
    }
}
