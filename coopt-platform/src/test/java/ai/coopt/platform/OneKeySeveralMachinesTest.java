package ai.coopt.platform;

import ai.coopt.collab.Lease;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.optimize.Matrix;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.client.RemotePlatform;
import ai.coopt.platform.db.Shard;
import ai.coopt.platform.db.ShardState;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.platform.server.PlatformServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An organisation with several machines enrols once: three {@code participant run} processes with one key (here three
 * clients, each with its own worker name, asking at the same time) hold three leases at once, within the platform's
 * bound per participant, and the outputs on S are sent once.
 */
class OneKeySeveralMachinesTest {
    private static final int DIM = 8;
    @TempDir
    Path tmp;

    @Test
    void threeProcessesWithOneKeyHoldThreeLeasesAtOnce() throws Exception {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", 300);
        PlatformConfig config = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 300, null, 300,
                images.fingerprint(), 0, 5, null, 20, 1, 60, "ridge", 0, Instant.now().toString(), "test", List.of("t"));
        try (TestPlatform running = TestPlatform.startIn(TestDatabases.sqlite(tmp), tmp.resolve("platform"), config,
                images, null, System::currentTimeMillis, PlatformServer.Limits.DEFAULT)) {
            running.service().capLeasesPerParticipant(3);
            KeyFile key = KeyFile.create(tmp.resolve("org.key"));
            String invite = running.store().participants().createInvite("org", System.currentTimeMillis(), 60_000);
            PlatformClient enrol = client(running, key);
            enrol.post("/v1/enroll", Map.of("invite", invite, "public_key", key.publicKeyBase64()), key);

            List<RemotePlatform> machines = new ArrayList<>();
            for (int m = 0; m < 4; m++) {
                machines.add(new RemotePlatform(client(running, key), key.participantId(), tmp.resolve("work" + m), null));
            }
            // the first machine sends the outputs on S; the others find them sent
            Path shared = tmp.resolve("shared.safetensors");
            long[] sharedIds = machines.get(0).round().sharedIds();
            Uploads.write(shared, sharedIds, new Matrix(TestPlatform.gaussian(sharedIds.length * DIM, 1), sharedIds.length, DIM),
                    Uploads.priorMetadata(TestPlatform.report(DIM)));
            client(running, key).upload("/v1/shared", shared);
            for (RemotePlatform m : machines) {
                assertTrue(m.hasShared(key.participantId()), "outputs on S are the participant's, sent once");
            }

            List<Integer> granted = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<Lease>> asked = new ArrayList<>();
                for (RemotePlatform m : machines.subList(0, 3)) {
                    asked.add(pool.submit(() -> m.lease(key.participantId())));
                }
                for (Future<Lease> f : asked) {
                    granted.add(assertInstanceOf(Lease.Granted.class, f.get(60, TimeUnit.SECONDS)).shard());
                }
                assertEquals(3, new HashSet<>(granted).size(), "three machines, three different shards: " + granted);
            } finally {
                pool.shutdownNow();
            }
            List<Shard> leased = running.store().rounds().shards().stream().filter(s -> s.state() == ShardState.LEASED).toList();
            assertEquals(3, leased.size());
            assertTrue(leased.stream().allMatch(s -> s.leaseHolder().equals(key.participantId())));
            // a machine asking again keeps its own lease; a fourth waits: the platform's bound is 3 per participant
            for (int m = 0; m < 3; m++) {
                assertEquals(granted.get(m), assertInstanceOf(Lease.Granted.class,
                        machines.get(m).lease(key.participantId())).shard());
            }
            assertInstanceOf(Lease.Wait.class, machines.get(3).lease(key.participantId()));
            assertEquals(1, running.store().uploads().sharedOutputs().size(), "S sent once");
        }
    }

    private static PlatformClient client(TestPlatform running, KeyFile key) {
        return new PlatformClient(running.url(), null, key, Duration.ofSeconds(10), m -> { });
    }
}
