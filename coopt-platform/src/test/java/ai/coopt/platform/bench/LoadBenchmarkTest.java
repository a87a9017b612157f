package ai.coopt.platform.bench;

import ai.coopt.data.DatasetSpec;
import ai.coopt.data.ImageSet;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.platform.server.PlatformServer;
import ai.coopt.platform.server.PlatformService;
import ai.coopt.util.ProgressListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many participants at once against one platform: no shard leased or accepted twice, none left behind. */
class LoadBenchmarkTest {
    @Test
    void twelveConcurrentParticipantsShareFortyShardsExactlyOnce(@TempDir Path tmp) throws Exception {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", 400);
        PlatformConfig c = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 400, null, 400,
                images.fingerprint(), 0, 40, null, 10, 2, 60, "ridge", 0, Instant.now().toString(), "test", List.of("t"));
        try (Database db = Database.open("sqlite:" + tmp.resolve("platform.db"))) {
            PlatformStore store = new PlatformStore(db);
            try (PlatformService service = PlatformService.open(tmp.resolve("platform"), store, c, images,
                    System::currentTimeMillis, ProgressListener.NONE);
                 PlatformServer server = PlatformServer.start(service, System::currentTimeMillis, "test", "127.0.0.1", 0, null)) {
                LoadBenchmark.Result r = LoadBenchmark.run(server.url("127.0.0.1"), store, 12, 4, tmp.resolve("work"),
                        System.err::println);
                assertTrue(r.acceptedOnce(), "every shard accepted exactly once: " + r);
                assertEquals(0, r.refusals());
                assertEquals(40, r.upload().count());
                assertEquals(40, store.uploads().stream().filter(u -> u.accepted() && u.shard() != null).count());
            }
        }
    }
}
