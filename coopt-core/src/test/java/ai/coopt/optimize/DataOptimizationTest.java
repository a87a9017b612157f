package ai.coopt.optimize;

import ai.coopt.UserException;
import ai.coopt.data.SyntheticIdx;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.RowFile;
import ai.coopt.store.Scratch;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataOptimizationTest {
    private static final ManifestProvenance.Created CREATED =
            new ManifestProvenance.Created(Instant.parse("2026-01-01T00:00:00Z"), "test", List.of("coopt", "optimize"), 0);

    private static DatasetSpec idx(Path dir, int n) throws IOException {
        return SyntheticIdx.write(dir, n, 12, 3);
    }

    private static DataOptimization.Result optimize(DatasetSpec data, Path out, int dim) {
        return DataOptimization.run(data, "train", 0, "random:convnet-s:2", out,
                new DataOptimization.Settings(dim, 16, 50, 0), Device.cpu(), ProgressListener.NONE, CREATED);
    }

    @Test
    void writesStandardisedTargetsWithProvenanceAndKeepsRawOutputs(@TempDir Path tmp) throws IOException {
        DatasetSpec data = idx(tmp.resolve("idx"), 80);
        DataOptimization.Result r = optimize(data, tmp.resolve("out"), 8);
        assertEquals(80, r.count());
        assertEquals(8, r.dim());
        assertEquals(128, r.priorDim());
        assertEquals(50, r.uniformitySubset());
        assertTrue(r.uniformity() <= 0 && r.uniformity() >= -4 * 2, "uniformity " + r.uniformity());

        OptimizedDataset d = OptimizedDataset.read(tmp.resolve("out"));
        float[] t;
        try (var rows = d.targets()) {
            t = rows.toArray();
        }
        for (int j = 0; j < 8; j++) {
            double sum = 0;
            double sq = 0;
            for (int i = 0; i < 80; i++) {
                sum += t[i * 8 + j];
                sq += t[i * 8 + j] * t[i * 8 + j];
            }
            assertEquals(0, sum / 80, 1e-4);
            assertEquals(1, Math.sqrt(sq / 80), 1e-3);
        }
        var participant = d.provenance().participants().get(0);
        assertEquals("random:convnet-s:2", participant.prior());
        assertEquals(128, participant.outputDim());
        assertEquals(8, d.provenance().postprocess().pcaDim());
        try (var raw = d.rawOutputs(0)) {
            assertEquals(80, raw.outputs().count());
            assertEquals(128, raw.outputs().dim());
            assertEquals(80, raw.ids().length);
        }
    }

    @Test
    void sameDataPriorAndSeedGiveByteIdenticalTargets(@TempDir Path tmp) throws IOException {
        DatasetSpec data = idx(tmp.resolve("idx"), 40);
        optimize(data, tmp.resolve("a"), 0);
        optimize(data, tmp.resolve("b"), 0);
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a/targets.safetensors")),
                Files.readAllBytes(tmp.resolve("b/targets.safetensors")));
    }

    @Test
    void impossibleDimIsRefusedAndNothingIsWritten(@TempDir Path tmp) throws IOException {
        DatasetSpec data = idx(tmp.resolve("idx"), 20);
        assertThrows(UserException.class, () -> optimize(data, tmp.resolve("wide"), 129));
        assertThrows(UserException.class, () -> optimize(data, tmp.resolve("many"), 21));
        assertFalse(Files.exists(tmp.resolve("wide")));
        assertFalse(Files.exists(tmp.resolve("many")));
    }

    @Test
    void streamingPostprocessingGivesTheSameBitsAsInMemory(@TempDir Path tmp) {
        // 40,000 x 128 outputs: more than one 4 Mi-float block, so the passes really stream block by block
        int n = 40_000;
        int d = 128;
        SplittableRandom random = new SplittableRandom(7);
        float[] v = new float[n * d];
        for (int i = 0; i < n; i++) {
            double shared = random.nextGaussian();
            for (int j = 0; j < d; j++) {
                v[i * d + j] = (float) (shared * (j % 5) + random.nextGaussian() / (1 + j));
            }
        }
        Matrix outputs = new Matrix(v, n, d);
        DataOptimization.Postprocessed inMemory = DataOptimization.postprocess(outputs, 16);
        try (Scratch scratch = Scratch.beside(tmp.resolve("out"))) {
            RowFile onDisk;
            try (RowFile.Writer w = scratch.rows("outputs", d)) {
                w.write(v, 0, n);
                onDisk = scratch.keep(w.finish());
            }
            DataOptimization.Postprocessed streamed = DataOptimization.postprocess(onDisk, 16, scratch,
                    ProgressListener.NONE);
            assertEquals(16, streamed.dim());
            assertEquals(inMemory.explainedVariance(), streamed.explainedVariance());
            assertArrayEquals(((Matrix) inMemory.targets()).values(), streamed.targets().toArray());
        }
    }
}
