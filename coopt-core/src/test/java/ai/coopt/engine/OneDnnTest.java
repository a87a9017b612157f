package ai.coopt.engine;

import ai.coopt.UserException;
import ai.coopt.nn.Network;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OneDnnTest {
    @TempDir
    Path dir;

    /** Writes a sysfs-like cache directory: one {@code index*} folder per {@code level type size} triple (null: file missing). */
    private Path caches(String... entries) throws IOException {
        Path root = Files.createDirectories(Files.createTempDirectory(dir, "cpu").resolve("cache"));
        for (int i = 0; i < entries.length; i++) {
            Path index = Files.createDirectories(root.resolve("index" + i));
            String[] f = entries[i].split(" ", -1);
            String[] names = {"level", "type", "size"};
            for (int k = 0; k < names.length; k++) {
                if (k < f.length && !f[k].equals("-")) {
                    Files.writeString(index.resolve(names[k]), f[k] + "\n", StandardCharsets.US_ASCII);
                }
            }
        }
        return root;
    }

    @Test
    void aCpuThatReportsItsCachesKeepsOneDnn() throws IOException {
        CpuCaches c = CpuCaches.read(caches("1 Data 48K", "1 Instruction 64K", "2 Unified 2048K", "3 Unified 491520K"))
                .orElseThrow();
        assertEquals(4, c.caches().size());
        assertEquals(2048L << 10, c.caches().get(2).bytes()); // sorted: 1 Data, 1 Instruction, 2 Unified, 3 Unified
        assertTrue(c.reportsL1AndL2());
        assertTrue(OneDnn.decide(OneDnn.Mode.AUTO, Optional.of(c)).enabled());
    }

    @Test
    void aCpuThatHidesItsCachesTurnsOneDnnOff() throws IOException {
        // what lscpu shows as "no cache lines": no index entries at all, sizes missing, zero, or only instruction caches
        for (Path p : List.of(caches(), caches("1 Data -", "2 Unified -"), caches("1 Data 0K", "2 Unified 0K"),
                caches("1 Data 32K"), caches("1 Instruction 32K", "2 Instruction 1M"), caches("1 Data junk", "2 Unified 99999999999K"))) {
            CpuCaches c = CpuCaches.read(p).orElseThrow();
            assertFalse(c.reportsL1AndL2(), p + ": " + c);
            OneDnn.Decision d = OneDnn.decide(OneDnn.Mode.AUTO, Optional.of(c));
            assertFalse(d.enabled());
            assertTrue(d.reason().contains("no level-1/level-2 cache size"), d.reason());
        }
    }

    @Test
    void noSysfsMeansNothingToGoBy() {
        assertTrue(CpuCaches.read(dir.resolve("absent")).isEmpty());
        assertTrue(OneDnn.decide(OneDnn.Mode.AUTO, Optional.empty()).enabled());
    }

    @Test
    void theSettingOverridesTheDetection() throws IOException {
        Optional<CpuCaches> good = CpuCaches.read(caches("1 Data 48K", "2 Unified 2M"));
        assertFalse(OneDnn.decide(OneDnn.Mode.OFF, good).enabled());
        assertTrue(OneDnn.decide(OneDnn.Mode.ON, Optional.of(new CpuCaches(List.of()))).enabled());
        assertEquals(OneDnn.Mode.OFF, OneDnn.Mode.parse(" OFF ", "x"));
        assertEquals(OneDnn.Mode.AUTO, OneDnn.Mode.parse("", "x"));
        UserException e = assertThrows(UserException.class, () -> OneDnn.Mode.parse("maybe", OneDnn.ENV));
        assertEquals("COOPT_ONEDNN must be auto, on or off, not 'maybe'", e.getMessage());
    }

    @Test
    void sizesAsSysfsWritesThem() {
        assertEquals(48L << 10, CpuCaches.parseSize("48K"));
        assertEquals(32L << 20, CpuCaches.parseSize("32M"));
        assertEquals(512, CpuCaches.parseSize("512"));
        assertEquals(0, CpuCaches.parseSize(""));
        assertEquals(0, CpuCaches.parseSize("K"));
        assertEquals(0, CpuCaches.parseSize("-4K"));
    }

    /**
     * The safe path on every machine: with oneDNN turned off, resnet50 (whose 1×1 convolutions are the ones that
     * crash where caches are hidden) trains and infers, and gives the features oneDNN gives.
     */
    @Test
    void resnet50RunsWithOneDnnOffAndAgreesWithIt() {
        Engines.get();
        // where the CPU hides its caches the engine came up with oneDNN off, and running it to compare would crash
        boolean comparable = OneDnn.enabled();
        try (Network net = Network.create("resnet50", 3, 32, 32, 0, Device.cpu());
             NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            float[] with = comparable ? features(net, x) : null;
            OneDnn.setEnabled(false);
            float[] without;
            try {
                assertFalse(OneDnn.enabled());
                assertFalse(OneDnn.nnpackEnabled());
                without = features(net, x);
            } finally {
                if (comparable) {
                    OneDnn.setEnabled(true);
                }
            }
            assertEquals(comparable, OneDnn.enabled());
            assertEquals(comparable, OneDnn.nnpackEnabled());
            double maxAbs = 0;
            for (float v : without) {
                assertTrue(Float.isFinite(v));
                maxAbs = Math.max(maxAbs, Math.abs(v));
            }
            assertTrue(maxAbs > 0);
            if (comparable) {
                double maxDiff = 0;
                for (int i = 0; i < with.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(with[i] - without[i]));
                }
                assertTrue(maxDiff <= 1e-3 * maxAbs, "max diff " + maxDiff + " of " + maxAbs);
            }
        }
    }

    private static float[] features(Network net, NDArray x) {
        try (NoGrad ignored = NoGrad.enter()) {
            return net.forward(x, false).toFloatArray();
        }
    }

    /**
     * The decision is applied when the engine loads, before any convolution: a fresh JVM told {@code off} trains and
     * infers every convolutional architecture without oneDNN (the path a VM without cache sizes takes).
     */
    @Test
    void aFreshEngineToldOffNeverUsesOneDnn() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-D" + OneDnn.PROPERTY + "=off",
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), OneDnnChild.class.getName()));
        Path log = dir.resolve("child.log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the child did not finish in 5 minutes");
        } finally {
            p.destroyForcibly();
        }
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("onednn=false before=false nnpack=false"), out);
        assertTrue(out.contains("resnet50 trained"), out);
    }
}
