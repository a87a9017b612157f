package ai.coopt.engine;

import ai.coopt.Setting;
import ai.coopt.UserException;
import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The choice of precision (with the CPU's flags forced either way) and the casts bf16 runs on. */
class PrecisionTest {
    @AfterEach
    void unforce() {
        System.clearProperty(CpuFlags.PROPERTY);
    }

    @Test
    void autoPicksBf16OnlyWhereTheCpuHasIt() {
        System.setProperty(CpuFlags.PROPERTY, "fpu sse2 avx512f");
        assertEquals(Precision.FP32, Precision.choose("auto", Device.cpu()));
        System.setProperty(CpuFlags.PROPERTY, "fpu avx512f avx512_bf16");
        assertEquals(Precision.BF16, Precision.choose("auto", Device.cpu()));
        System.setProperty(CpuFlags.PROPERTY, "amx_tile,amx_bf16");
        assertEquals(Precision.BF16, Precision.choose("auto", Device.cpu()));
        assertEquals(Precision.FP32, Precision.choose("fp32", Device.cpu()));
        assertEquals(Precision.FP32, Precision.choose(null, Device.cpu()));
    }

    @Test
    void bf16WhereTheCpuLacksItIsRefusedNamingTheSetting() {
        System.setProperty(CpuFlags.PROPERTY, "");
        UserException e = assertThrows(UserException.class, () -> Precision.choose("bf16", Device.cpu()));
        assertEquals(Set.of(Setting.PRECISION), e.settings());
        assertTrue(e.getMessage().contains("avx512_bf16"), e.getMessage());
        UserException bad = assertThrows(UserException.class, () -> Precision.choose("fp16", Device.cpu()));
        assertTrue(bad.getMessage().contains("'fp16'"), bad.getMessage());
    }

    @Test
    void recordedLabelsReadBackAndAMissingOneIsFp32() {
        assertEquals(Precision.BF16, Precision.ofLabel("bf16"));
        assertEquals(Precision.FP32, Precision.ofLabel(null));
        assertThrows(IllegalArgumentException.class, () -> Precision.ofLabel("BF16x"));
    }

    @Test
    void cpuinfoFlagsAreReadFromTheFirstFlagsLine(@TempDir Path tmp) throws IOException {
        Path info = tmp.resolve("cpuinfo");
        Files.writeString(info, "processor\t: 0\nmodel name\t: x\nflags\t\t: fpu avx512f avx512_bf16\n\n"
                + "processor\t: 1\nflags\t\t: fpu\n");
        assertEquals(Set.of("fpu", "avx512f", "avx512_bf16"), CpuFlags.read(info));
        assertEquals(Set.of(), CpuFlags.read(tmp.resolve("missing")));
        Files.writeString(info, "no flags here\n");
        assertEquals(Set.of(), CpuFlags.read(info));
    }

    @Test
    void castsRoundTripRepresentableValuesAndRoundTheOthers() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            float[] exact = {0f, 1f, -2.5f, 0.15625f, Math.scalb(1f, 100), -Math.scalb(3f, -100)};
            NDArray x = m.create(exact);
            try (NDArray b = BFloat16.of(x); NDArray back = BFloat16.toFloat32(b)) {
                assertTrue(BFloat16.isBFloat16(b));
                assertFalse(BFloat16.isBFloat16(x));
                assertEquals(DataType.FLOAT32, back.getDataType());
                assertArrayEquals(exact, back.toFloatArray());
            }
            // 1 + 2^-10 is not a bfloat16 (7 bits of fraction): it rounds to 1
            try (NDArray b = BFloat16.of(m.create(new float[] {1f + 1f / 1024})); NDArray back = BFloat16.toFloat32(b)) {
                assertArrayEquals(new float[] {1f}, back.toFloatArray());
            }
        }
    }

    /**
     * Images cast on their way into a network come out channels-last with the values of the plain cast; an array that
     * is not 4-D is cast as it is. One channel or one pixel needs no float32 copy to be read as channels-last.
     */
    @Test
    void imagesCastChannelsLastWithThePlainCastsValues() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = m.randomNormal(new Shape(2, 3, 4, 5));
            try (NDArray images = BFloat16.ofImages(x); NDArray plain = BFloat16.of(x);
                 NDArray a = BFloat16.toFloat32(images); NDArray b = BFloat16.toFloat32(plain)) {
                assertTrue(BFloat16.isBFloat16(images));
                assertTrue(LayoutsTest.isChannelsLast(images));
                assertFalse(LayoutsTest.isChannelsLast(plain));
                assertArrayEquals(b.toFloatArray(), a.toFloatArray());
            }
            try (NDArray flat = BFloat16.ofImages(m.create(new float[] {1f, 2.5f}));
                 NDArray back = BFloat16.toFloat32(flat)) {
                assertArrayEquals(new float[] {1f, 2.5f}, back.toFloatArray());
            }
            assertTrue(Layouts.copiesToChannelsLast(x));
            assertFalse(Layouts.copiesToChannelsLast(m.zeros(new Shape(2, 1, 4, 5))), "one channel");
            assertFalse(Layouts.copiesToChannelsLast(m.zeros(new Shape(2, 3, 1, 1))), "one pixel");
            assertFalse(Layouts.copiesToChannelsLast(m.zeros(new Shape(3, 4, 5))), "3-D");
        }
    }

    /**
     * A float32 weight used through the casts gets a float32 gradient: d/dW of sum((x·W)²) = 2·xᵀ·(x·W), computed in
     * float32 here, within bfloat16's rounding.
     */
    @Test
    void gradientsFlowThroughTheCastsToFloat32Weights() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Engines.seed(3);
            NDArray w = m.randomNormal(new Shape(8, 4));
            w.setRequiresGradient(true);
            NDArray x = m.randomNormal(new Shape(5, 8));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = BFloat16.toFloat32(BFloat16.of(x).matMul(BFloat16.of(w)));
                gc.backward(y.square().sum());
            }
            NDArray g = w.getGradient();
            assertEquals(DataType.FLOAT32, g.getDataType());
            NDArray expected = x.transpose().matMul(x.matMul(w)).mul(2f);
            float error = g.sub(expected).abs().max().getFloat() / expected.abs().max().getFloat();
            assertTrue(error < 0.03f, "relative error " + error);
            assertTrue(error > 0f, "no bfloat16 rounding at all");
        }
    }
}
