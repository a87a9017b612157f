package ai.coopt.platform;

import ai.coopt.platform.api.LeaseView;
import ai.coopt.optimize.Matrix;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.server.PlatformServer;
import ai.coopt.platform.server.PlatformService;
import ai.coopt.platform.api.Status;
import ai.coopt.store.Checksums;
import ai.coopt.store.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One enrolled participant cannot grow the database without bound: 20,000 junk requests (malformed uploads, lease
 * polls, renewals, audit calls), driven in process against the service on a clock that stands still, add at most 20
 * refused uploads (and their 20 events) and no event for any renewal; ten minutes later ten more. The status stays
 * bounded whatever the tables hold: the newest 200 uploads and 300 events, with the totals.
 */
class JunkRequestsTest {
    private static final int DIM = 8;

    @TempDir
    Path tmp;

    @Test
    void junkFromOneParticipantGrowsTheDatabaseByABoundedAmount() throws Exception {
        AtomicLong clock = new AtomicLong(System.currentTimeMillis());
        try (TestPlatform running = TestPlatform.small(tmp, null, clock::get, PlatformServer.Limits.DEFAULT)) {
            PlatformStore store = running.store();
            PlatformService service = running.service();
            KeyFile k = KeyFile.create(tmp.resolve("mallory.key"));
            PlatformClient client = new PlatformClient(running.url(), null, k, Duration.ofSeconds(5), m -> { });
            client.post("/v1/enroll", Map.of("invite", store.participants().createInvite("mallory", clock.get(), 60_000),
                    "public_key", k.publicKeyBase64()), k);
            String who = k.participantId();
            long[] shared = PlatformClient.longs(client.get("/v1/round").path("shared_ids"));
            Path s = tmp.resolve("shared.safetensors");
            Uploads.write(s, shared, new Matrix(TestPlatform.gaussian(shared.length * DIM, 1), shared.length, DIM),
                    Uploads.priorMetadata(TestPlatform.report(DIM)));
            service.uploadShared(who, Files.newInputStream(s), Files.size(s), Checksums.sha256(s));
            LeaseView lease = service.lease(who);

            long uploadsBefore = store.uploads().all().size();
            long eventsBefore = store.events().all().size();
            int refusedOrLimited = junk(service, who, lease, 20_000);
            assertEquals(20_000, refusedOrLimited, "no junk upload was accepted");
            long uploadRows = store.uploads().all().size() - uploadsBefore;
            long events = store.events().all().size() - eventsBefore;
            assertTrue(uploadRows <= 20, uploadRows + " refused uploads recorded from 20,000 junk requests (bound: 20)");
            assertTrue(events <= uploadRows, events + " events for " + uploadRows + " refusals: renewals and polls add none");

            clock.addAndGet(10 * 60_000);
            junk(service, who, service.lease(who), 1_000);
            long later = store.uploads().all().size() - uploadsBefore;
            assertTrue(later <= 30, later + " refusals on record after ten more minutes (bound: 20 + 1 a minute)");

            long t0 = System.nanoTime();
            Status status = service.status("test");
            long millis = (System.nanoTime() - t0) / 1_000_000;
            int bytes = Json.mapper().writeValueAsBytes(status).length;
            System.err.println("JunkRequestsTest: " + store.uploads().all().size() + " upload rows, " + store.events().all().size()
                    + " events; status " + bytes + " bytes in " + millis + " ms");
            assertTrue(status.uploads().size() <= 200 && status.events().size() <= 300, "status lists are bounded");
            assertTrue(bytes < 128 << 10, "status is " + bytes + " bytes");
        }
    }

    /**
     * {@code n} junk requests, four kinds in turn: a malformed upload of the participant's own leased shard, a lease
     * poll, a renewal (valid: each one used to add an event), an audit list. Returns how many were refused or
     * limited, or were renewals, polls and audit lists answered (which must not grow the database either).
     */
    private static int junk(PlatformService service, String who, LeaseView lease, int n) {
        byte[] junk = new byte[200];
        for (int i = 0; i < junk.length; i++) {
            junk[i] = (byte) (i * 31);
        }
        String sha = ai.coopt.platform.auth.Sha256.hex(junk);
        int count = 0;
        for (int i = 0; i < n; i++) {
            try {
                switch (i % 4) {
                    case 0 -> service.uploadShard(who, lease.shard(), lease.token(), new ByteArrayInputStream(junk),
                            junk.length, sha);
                    case 1 -> service.lease(who);
                    case 2 -> service.renew(who, lease.shard(), lease.token());
                    default -> service.audits(who);
                }
                count += i % 4 == 0 ? 0 : 1;
            } catch (Exception e) {
                count++;
            }
        }
        return count;
    }
}
