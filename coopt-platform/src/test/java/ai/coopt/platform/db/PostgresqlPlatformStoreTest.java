package ai.coopt.platform.db;

import ai.coopt.platform.auth.Ed25519Keys;
import ai.coopt.platform.auth.Sha256;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link PlatformStore} suite on PostgreSQL ({@code COOPT_TEST_POSTGRESQL}): a new schema per test,
 * dropped after it. Skipped when the variable is unset, except under CI, where that fails.
 */
class PostgresqlPlatformStoreTest extends PlatformStoreContract {

    @Override
    String newDatabaseUrl() {
        return TestDatabases.postgresqlFreshSchema();
    }

    @Override
    void dropDatabase(String url) {
        TestDatabases.dropSchema(url);
    }

    private static String enroll(PlatformStore store, String name, long now) {
        String token = store.participants().createInvite(name, now, 60_000);
        byte[] key = Sha256.digest(("key of " + name).getBytes(StandardCharsets.UTF_8));
        return assertInstanceOf(Redemption.Enrolled.class, store.participants().redeemInvite(token, Ed25519Keys.base64(key), now))
                .participant().id();
    }

    /**
     * A free shard that another connection holds locked (another server's lease in progress) is passed over at once
     * (SKIP LOCKED), not waited for; with nothing else free the answer is to ask again now.
     */
    @Test
    void aShardAnotherServerIsLeasingIsPassedOverNotWaitedFor() throws Exception {
        String url = newDatabaseUrl();
        long t0 = 1_700_000_000_000L;
        try (Database db = Database.open(url); Database other = Database.open(url)) {
            PlatformStore store = new PlatformStore(db);
            store.rounds().init("{}", List.of(new NewShard(0, 10, Sha256.hex("s0")), new NewShard(1, 10, Sha256.hex("s1"))), t0);
            String p = enroll(store, "p", t0);
            String q = enroll(store, "q", t0);
            other.transaction(c -> {
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT shard FROM shards WHERE shard = 0 FOR UPDATE")) {
                    assertTrue(rs.next());
                }
                try {
                    LeaseResult first = CompletableFuture.supplyAsync(() -> store.leases().lease(p, t0 + 1, 10_000, null))
                            .get(10, TimeUnit.SECONDS);
                    assertEquals(1, assertInstanceOf(LeaseResult.Leased.class, first).shard(), "shard 0 is passed over");
                    LeaseResult second = CompletableFuture.supplyAsync(() -> store.leases().lease(q, t0 + 2, 10_000, null))
                            .get(10, TimeUnit.SECONDS);
                    assertEquals(new LeaseResult.Wait(t0 + 2), second, "the only free shard is being taken: ask again now");
                } catch (Exception e) {
                    throw new AssertionError("a lease waited for a locked shard instead of passing over it", e);
                }
                return null;
            });
            assertEquals(0, assertInstanceOf(LeaseResult.Leased.class, store.leases().lease(q, t0 + 3, 10_000, null)).shard(),
                    "once the other transaction ended, the shard is free again");
        } finally {
            dropDatabase(url);
        }
    }
}
