package ai.coopt.report;

import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.data.SyntheticIdx;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TargetMapTest {
    @Test
    void tsneKeepsWellSeparatedClustersApart() {
        Random r = new Random(1);
        List<float[]> rows = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            float[] x = new float[10];
            for (int j = 0; j < 10; j++) {
                x[j] = (float) (r.nextGaussian() + (i < 30 ? 20 : -20));
            }
            rows.add(x);
        }
        double[][] y = TargetMap.tsne(rows, 0);
        assertEquals(60, y.length);
        double within = 0;
        double between = 0;
        for (int i = 0; i < 60; i++) {
            for (int j = 0; j < 60; j++) {
                double d = Math.hypot(y[i][0] - y[j][0], y[i][1] - y[j][1]);
                if ((i < 30) == (j < 30)) {
                    within += d;
                } else {
                    between += d;
                }
            }
        }
        assertTrue(between / (30 * 30 * 2) > 3 * within / (2 * 30 * 30 - 60), "clusters merged in the map");
        assertArrayEquals(y[7], TargetMap.tsne(rows, 0)[7], 1e-9, "same seed, same map");
    }

    @Test
    void mapsEveryParticipantsSampleBeforeAndAfterAlignment(@TempDir Path tmp) throws IOException {
        DatasetSpec data = SyntheticIdx.write(tmp.resolve("idx"), 240, 16, 5);
        CollaborativeOptimization.run(data, "train", 0, List.of("random:convnet-s:1", "random:resnet18:2"), tmp.resolve("fused"),
                new CollaborativeOptimization.Settings(null, null, 30, "ridge", 0, 64, 3), Device.cpu(), ProgressListener.NONE,
                new ManifestProvenance.Created(Instant.parse("2026-01-01T00:00:00Z"), "test", List.of("coopt"), 0));
        TargetMap.BeforeAfter maps = TargetMap.of(OptimizedDataset.read(tmp.resolve("fused")), 40, 5);
        assertEquals(List.of("random:convnet-s:1", "random:resnet18:2"), maps.priors());
        for (TargetMap m : List.of(maps.before(), maps.after())) {
            assertEquals(80, m.points().length);
            assertEquals(40, java.util.Arrays.stream(m.participant()).filter(p -> p == 1).count());
            for (double[] p : m.points()) {
                assertTrue(Double.isFinite(p[0]) && Double.isFinite(p[1]));
            }
        }
    }
}
