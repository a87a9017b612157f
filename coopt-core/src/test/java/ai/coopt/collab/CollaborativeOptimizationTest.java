package ai.coopt.collab;

import ai.coopt.UserException;
import ai.coopt.data.SyntheticIdx;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CollaborativeOptimizationTest {
    private static final ManifestProvenance.Created CREATED =
            new ManifestProvenance.Created(Instant.parse("2026-01-01T00:00:00Z"), "test", List.of("coopt", "collab"), 0);

    private static DatasetSpec idx(Path dir, int n) throws IOException {
        return SyntheticIdx.write(dir, n, 16, 5);
    }

    private static CollaborativeOptimization.Result collab(DatasetSpec data, List<String> priors, Path out, Integer k,
                                                           Double fraction, Integer count, String align) {
        return CollaborativeOptimization.run(data, "train", 0, priors, out,
                new CollaborativeOptimization.Settings(k, fraction, count, align, 0, 64, 3), Device.cpu(),
                ProgressListener.NONE, CREATED);
    }

    @Test
    void theSamePriorTwiceIsKeptAndNoiseBesideItIsNotTheReference(@TempDir Path tmp) throws IOException, URISyntaxException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        DatasetSpec data = DatasetSpec.parse("fashion-mnist");
        // participants 0 and 2 bring the same public prior (identical outputs on S); participant 1 sends Gaussian noise
        String noise = "torchscript:" + Path.of(getClass().getResource("/priors/adversarial/noise.pt").toURI());
        var r = CollaborativeOptimization.run(data, "train", 600, List.of("random:convnet-s:1", noise, "random:convnet-s:1"),
                tmp.resolve("out"), new CollaborativeOptimization.Settings(null, null, 200, "ridge", 0, 64, 3),
                Device.cpu(), ProgressListener.NONE, CREATED);
        assertTrue(r.uniformity().get(1) < r.uniformity().get(0), "the noise is the most uniform: " + r.uniformity());
        assertEquals(List.of(), r.excluded(), "nobody is excluded: two independent priors cannot outvote each other");
        assertEquals(0, r.reassignedShards());
        assertEquals(600, r.count());
        assertEquals(0, r.reference(), "the prior two participants brought is the reference, not the noise");
        assertFalse(r.referenceVerified(), "two independent priors cannot verify it");
        assertEquals(0.0, r.residuals().get(0));
        assertTrue(r.residuals().get(2) < 1e-3, "the second copy of the prior maps onto the first: " + r.residuals());
        assertEquals(List.of("distribution", "optimization", "screening", "alignment", "fusion"),
                List.copyOf(r.phaseSeconds().keySet()));
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("2 participants brought")), r.notes().toString());

        OptimizedDataset d = OptimizedDataset.read(tmp.resolve("out"));
        List<ManifestProvenance.Participant> fused = d.provenance().participants();
        assertEquals(3, fused.size(), "both participants of the same prior contribute their shards");
        assertEquals(600, fused.stream().mapToInt(p -> p.shard().count()).sum());
        assertTrue(fused.get(0).shard().count() > 0 && fused.get(2).shard().count() > 0);
        assertEquals("random:convnet-s:1", fused.get(d.provenance().alignment().reference()).prior());
        assertEquals(Boolean.FALSE, d.provenance().alignment().referenceVerified());
        assertEquals(200, d.provenance().alignment().sharedIds().size());
    }

    @Test
    void participantsOptimizingAtOnceMakeTheSameDatasetAsOneAtATime(@TempDir Path tmp) throws IOException {
        DatasetSpec data = idx(tmp.resolve("idx"), 240);
        List<String> priors = List.of("random:convnet-s:1", "random:resnet18:2", "random:convnet-s:3");
        String[] sha = new String[2];
        for (int workers = 1; workers <= 2; workers++) {
            Path out = tmp.resolve("out" + workers);
            var r = CollaborativeOptimization.run(data, "train", 0, priors, out,
                    new CollaborativeOptimization.Settings(null, null, 30, "ridge", 0, 64, 3, workers), Device.cpu(),
                    ProgressListener.NONE, CREATED);
            assertEquals(workers, r.concurrency());
            sha[workers - 1] = OptimizedDataset.read(out).targetsSha256();
        }
        assertEquals(sha[0], sha[1]);
    }

    @Test
    void withoutAlignmentShardsKeepTheirOwnSpaces(@TempDir Path tmp) throws IOException {
        DatasetSpec data = idx(tmp.resolve("idx"), 200);
        var r = collab(data, List.of("random:convnet-s:1", "random:resnet18:2"), tmp.resolve("out"), null, 0.1, null, "none");
        assertEquals(200, r.count());
        assertEquals("none", OptimizedDataset.read(tmp.resolve("out")).provenance().alignment().method());
    }

    @Test
    void impossibleSettingsAreRefusedBeforeAnyWork(@TempDir Path tmp) throws IOException, URISyntaxException {
        DatasetSpec data = idx(tmp.resolve("idx"), 50);
        List<String> priors = List.of("random:convnet-s:1");
        assertThrows(UserException.class, () -> collab(data, priors, tmp.resolve("a"), null, 0.0, null, "ridge"));
        assertThrows(UserException.class, () -> collab(data, priors, tmp.resolve("b"), null, 1.0, null, "ridge"));
        assertThrows(UserException.class, () -> collab(data, priors, tmp.resolve("c"), 51, null, 10, "ridge"));
        assertThrows(UserException.class, () -> collab(data, priors, tmp.resolve("f"), 0, null, 10, "ridge"));
        assertThrows(UserException.class, () -> collab(data, priors, tmp.resolve("d"), null, null, 10, "procrustes"));
        Path bad = Path.of(getClass().getResource("/priors/tiny_cnn_bad.pt").toURI());
        UserException e = assertThrows(UserException.class,
                () -> collab(data, List.of("random:convnet-s:1", "torchscript:" + bad), tmp.resolve("e"), null, null, 10, "ridge"));
        assertTrue(e.getMessage().contains("fails on the shared subset"), e.getMessage());
        for (String dir : new String[] {"a", "b", "c", "d", "e"}) {
            assertFalse(Files.exists(tmp.resolve(dir)), dir);
        }
    }
}
