package ai.coopt.prior;

import ai.coopt.dataset.DatasetSpec;
import ai.coopt.optimize.DataOptimization;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.RowFile;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The public priors in {@code ../shared/priors} (the CIFAR ResNet-20 and ResNet-56 of He et al., exported once as
 * TorchScript and once as ONNX) give the same targets whichever form a participant brings: {@code coopt optimize}
 * with {@code torchscript:} and with {@code onnx:} of one model agree to 1e-4, on real CIFAR-10 images from
 * {@code ../shared/data}. Skipped, with a message, where {@code ../shared} is not beside the checkout.
 */
class SharedPriorsAgreementTest {
    private static final Path SHARED = Path.of(System.getProperty("coopt.shared",
            Path.of("").toAbsolutePath().resolve("../../shared").normalize().toString()));
    private static final int IMAGES = 96;
    private static final ManifestProvenance.Created CREATED =
            new ManifestProvenance.Created(Instant.parse("2026-01-01T00:00:00Z"), "test", List.of("coopt", "optimize"), 0);

    @TempDir
    static Path tmp;
    private static Path folder;

    /** The first {@value #IMAGES} training images of the CIFAR-10 JPEG copy, read from the archive as it is stored. */
    @BeforeAll
    static void unpackSomeImages() throws IOException {
        Path priors = SHARED.resolve("priors");
        Path archive = SHARED.resolve("data/cifar10-jpeg.tar.gz");
        assumeTrue(Files.isDirectory(priors) && Files.isRegularFile(archive),
                "../shared (public priors and the CIFAR-10 copy) is not beside this checkout: " + SHARED);
        folder = tmp.resolve("cifar");
        int taken = 0;
        try (InputStream in = new TarArchiveInputStream(new GzipCompressorInputStream(
                new BufferedInputStream(Files.newInputStream(archive))))) {
            TarArchiveInputStream tar = (TarArchiveInputStream) in;
            for (TarArchiveEntry e = tar.getNextEntry(); e != null && taken < IMAGES; e = tar.getNextEntry()) {
                String name = e.getName().replaceFirst("^\\./", "");
                if (!e.isFile() || !name.startsWith("train/") || !name.endsWith(".jpg") || name.contains("..")) {
                    continue;
                }
                String[] parts = name.split("/");
                Path to = folder.resolve(parts[1] + "-" + parts[parts.length - 1]);
                Files.createDirectories(to.getParent());
                Files.copy(tar, to);
                taken++;
            }
        }
        assertEquals(IMAGES, taken, "the archive holds fewer training images than the test reads");
    }

    private static float[] rows(Path dataset, boolean raw) {
        OptimizedDataset d = OptimizedDataset.read(dataset);
        try (RowFile r = raw ? d.rawOutputs(0).outputs() : d.targets()) {
            float[] out = new float[r.count() * r.dim()];
            r.read(0, r.count(), out, 0);
            return out;
        }
    }

    private static void agree(String model) {
        Path priors = SHARED.resolve("priors");
        Path ts = tmp.resolve(model + "-torchscript");
        Path onnx = tmp.resolve(model + "-onnx");
        DatasetSpec data = DatasetSpec.parse("folder:" + folder);
        DataOptimization.Settings settings = new DataOptimization.Settings(0, 32, 64, 0);
        DataOptimization.run(data, "train", 0, "torchscript:" + priors.resolve(model + ".pt"), ts, settings, Device.cpu(),
                ProgressListener.NONE, CREATED);
        DataOptimization.run(data, "train", 0, "onnx:" + priors.resolve(model + ".onnx"), onnx, settings, Device.cpu(),
                ProgressListener.NONE, CREATED);
        assertArrayEquals(OptimizedDataset.read(ts).ids(), OptimizedDataset.read(onnx).ids());
        float[] rawTs = rows(ts, true);
        float[] rawOnnx = rows(onnx, true);
        assertEquals(IMAGES * 64, rawTs.length, "the shared priors give 64-d features");
        double scale = 0;
        for (float v : rawTs) {
            scale = Math.max(scale, Math.abs(v));
        }
        assertTrue(scale > 0.1, "the features are not all zero (largest |value| " + scale + ")");
        for (int i = 0; i < rawTs.length; i++) {
            assertEquals(rawTs[i], rawOnnx[i], 1e-4 * scale, model + " prior output " + i);
        }
        float[] tTs = rows(ts, false);
        float[] tOnnx = rows(onnx, false);
        assertEquals(tTs.length, tOnnx.length);
        for (int i = 0; i < tTs.length; i++) {
            assertEquals(tTs[i], tOnnx[i], 1e-4, model + " target " + i + " (standardised, so 1e-4 is absolute)");
        }
    }

    @Test
    void resnet20TorchScriptAndOnnxGiveTheSameTargets() {
        agree("resnet20-cifar10");
    }

    @Test
    void resnet56TorchScriptAndOnnxGiveTheSameTargets() {
        agree("resnet56-cifar10");
    }
}
