package ai.coopt.platform.client;

import ai.coopt.platform.TestPlatform;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.server.PlatformServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A refused download says why, as every other refused request does: a bare "HTTP 403" from a shard's images could not
 * tell a participant that was quarantined from one whose lease was gone, and a flaky load test was misread that way.
 */
class DownloadRefusalTest {
    @Test
    void aRefusedDownloadCarriesThePlatformsReasonAndWritesNothing(@TempDir Path tmp) {
        try (TestPlatform running = TestPlatform.small(tmp, null, System::currentTimeMillis, PlatformServer.Limits.DEFAULT)) {
            KeyFile key = KeyFile.create(tmp.resolve("alice.key"));
            PlatformClient alice = new PlatformClient(running.url(), null, key, Duration.ofSeconds(30), System.err::println);
            alice.post("/v1/enroll", Map.of("invite", running.store().participants().createInvite("alice", System.currentTimeMillis(), 60_000),
                    "public_key", key.publicKeyBase64()), key);
            Path file = tmp.resolve("shard.images.safetensors");

            PlatformClient.Refusal notLeased = assertThrows(PlatformClient.Refusal.class,
                    () -> alice.download("/v1/shards/0/images", file, "0".repeat(64), true));
            assertEquals(403, notLeased.status());
            assertEquals("shard 0 is not leased to you", notLeased.getMessage());

            running.store().audits().quarantine(key.participantId(), "a test says so", System.currentTimeMillis());
            PlatformClient.Refusal quarantined = assertThrows(PlatformClient.Refusal.class,
                    () -> alice.download("/v1/shards/0/images", file, "0".repeat(64), true));
            assertEquals(403, quarantined.status());
            assertEquals("you are quarantined: a test says so", quarantined.getMessage());
            assertFalse(Files.exists(file));
            assertFalse(Files.exists(file.resolveSibling("." + file.getFileName() + ".download")));
        }
    }
}
