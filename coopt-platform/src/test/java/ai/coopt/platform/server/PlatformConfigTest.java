package ai.coopt.platform.server;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What a resumed {@code serve} asks for: given options win, the rest stays as stored. */
class PlatformConfigTest {
    private static final PlatformConfig STORED = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 500,
            null, 500, "fp", 0, 8, 0.02, null, 7, 600, "ridge", 0, "2026-12-06T00:00:00Z", "0.1.0",
            List.of("coopt", "platform", "serve")).withAudits(new PlatformConfig.Audits(64, 16, 300));

    @Test
    void optionsNotGivenAgainKeepTheStoredValues() {
        PlatformConfig r = STORED.resumedWith(new PlatformConfig.Resume("fashion-mnist", "train", 500, 0, null, null, null,
                null, null, 900, "pca", 32));
        assertEquals(8, r.shards());
        assertEquals(0.02, r.sharedFraction());
        assertEquals(null, r.sharedCount());
        assertEquals(7, r.seed());
        assertEquals(900, r.leaseSeconds(), "the lease time is as given now");
        assertEquals("pca", r.align());
        assertEquals(32, r.dim());
        assertEquals(List.of("coopt", "platform", "serve"), r.commandLine(), "provenance stays as stored");
        assertEquals(500, r.count());
        assertEquals("fp", r.fingerprint());
    }

    @Test
    void optionsGivenAgainAreAskedForAsGiven() {
        PlatformConfig r = STORED.resumedWith(new PlatformConfig.Resume("fashion-mnist", "train", 500, 3, 32, 4, null, 50,
                9L, 600, "ridge", 0));
        assertEquals(4, r.shards());
        assertEquals(null, r.sharedFraction(), "a size of S given as a count replaces the stored fraction");
        assertEquals(50, r.sharedCount());
        assertEquals(9, r.seed());
        assertEquals(32, r.imageSize());
        assertEquals(3, r.limitSeed());
    }
}
