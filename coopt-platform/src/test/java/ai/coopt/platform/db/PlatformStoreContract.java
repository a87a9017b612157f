package ai.coopt.platform.db;

import ai.coopt.UserException;
import ai.coopt.platform.auth.Ed25519Keys;
import ai.coopt.platform.auth.Sha256;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The {@link PlatformStore} suite, run against each database by a subclass (SQLite, PostgreSQL). Each test
 * gets a new, empty database from {@link #newDatabaseUrl}.
 */
abstract class PlatformStoreContract {

    private static final long T0 = 1_700_000_000_000L;
    private static final long LEASE = 10_000;

    /** A URL of a new, empty database. */
    abstract String newDatabaseUrl() throws Exception;

    /** Removes what {@link #newDatabaseUrl} made (if anything outlives the test). */
    abstract void dropDatabase(String url);

    private String url;
    private Database db;
    private PlatformStore store;

    @BeforeEach
    void open() throws Exception {
        url = newDatabaseUrl();
        db = Database.open(url);
        store = new PlatformStore(db);
    }

    /** Every test ends with the database consistent, as seen by a fresh connection. */
    @AfterEach
    void close() {
        if (db != null) {
            db.close();
        }
        if (url != null) {
            List<String> violations;
            try (Database reopened = Database.open(url)) {
                violations = Invariants.violations(reopened);
            } finally {
                dropDatabase(url);
            }
            assertEquals(List.of(), violations, "database invariants after the test");
        }
    }

    private static List<NewShard> shards(int n) {
        List<NewShard> shards = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            shards.add(new NewShard(i, 1000 + i, Sha256.hex("shard " + i)));
        }
        return shards;
    }

    private static byte[] key(String name) {
        return Sha256.digest(("key of " + name).getBytes(StandardCharsets.UTF_8));
    }

    private String enroll(String name) {
        String token = store.participants().createInvite(name, T0, 60_000);
        Redemption r = store.participants().redeemInvite(token, Ed25519Keys.base64(key(name)), T0 + 1);
        return assertInstanceOf(Redemption.Enrolled.class, r).participant().id();
    }

    /** Creates the round with {@code shards} shards and enrolls the named participants; returns their ids. */
    private List<String> round(int shards, String... names) {
        store.rounds().init("{}", shards(shards), T0);
        List<String> ids = new ArrayList<>();
        for (String name : names) {
            ids.add(enroll(name));
        }
        return ids;
    }

    /** A lease the participant must get, without a preferred shard. */
    private LeaseResult.Leased leased(String participant, long now) {
        return assertInstanceOf(LeaseResult.Leased.class, store.leases().lease(participant, now, LEASE, null));
    }

    /** A lease for the participant's one (unnamed) worker, held at most {@code cap}. */
    private LeaseResult capped(String participant, long now, long cap) {
        return store.leases().lease(participant, LeaseRepository.SOLE_WORKER, now, LEASE, cap, 1, null);
    }

    private static String sha(String text) {
        return Sha256.hex(text);
    }

    // ------------------------------------------------------------------ round

    @Test
    void roundIsCreatedOnceWithItsShardsAndFusionState() {
        assertTrue(store.rounds().current().isEmpty());
        Round round = store.rounds().init("{\"seed\":1}", shards(3), T0);
        assertEquals(new Round(1, "{\"seed\":1}", T0), round);
        assertEquals(round, store.rounds().init("{\"seed\":2}", shards(5), T0 + 5), "a second init changes nothing");
        List<Shard> shards = store.rounds().shards();
        assertEquals(3, shards.size());
        assertEquals(new Shard(2, 1002, sha("shard 2"), ShardState.OPEN, null, null, null), shards.get(2));
        assertEquals(new Fusion(FusionState.WAITING, false, null, T0, null, null), store.fusion().state());
        assertThrows(IllegalArgumentException.class, () -> store.rounds().init("{}", List.of(new NewShard(1, 1, sha("x"))), T0));
        assertThrows(IllegalArgumentException.class, () -> store.rounds().init("{}", List.of(new NewShard(0, 1, "ABC")), T0));
    }

    @Test
    void reopeningKeepsEverythingAndDoesNotMigrateAgain() {
        List<String> ids = round(2, "alice");
        String p = ids.get(0);
        db.close();
        db = Database.open(url);
        store = new PlatformStore(db);
        assertEquals(1, store.rounds().current().orElseThrow().id());
        assertEquals(p, store.participants().all().get(0).id());
        List<Integer> versions = db.transaction(c -> {
            List<Integer> applied = new ArrayList<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT version FROM flyway_schema_history WHERE type = 'SQL'")) {
                while (rs.next()) {
                    applied.add(Integer.parseInt(rs.getString(1)));
                }
            }
            return applied;
        });
        assertEquals(versions.stream().distinct().count(), versions.size(), "each migration applied once: " + versions);
        assertEquals(Database.SCHEMA_VERSION, versions.stream().mapToInt(Integer::intValue).max().orElse(0), versions.toString());
    }

    // ------------------------------------------------------------------ invites

    @Test
    void inviteIsRedeemedOnceAndOnlyItsHashIsStored() {
        String token = store.participants().createInvite("alice", T0, 60_000);
        assertTrue(token.matches("[A-Za-z0-9_-]{43}"), token);
        String stored = db.transaction(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT token_sha256 FROM invites")) {
                rs.next();
                return rs.getString(1);
            }
        });
        assertEquals(sha(token), stored);

        Redemption first = store.participants().redeemInvite(token, Ed25519Keys.base64(key("alice")), T0 + 10);
        Participant alice = assertInstanceOf(Redemption.Enrolled.class, first).participant();
        assertEquals(new Participant(Ed25519Keys.participantId(key("alice")), "alice", Ed25519Keys.base64(key("alice")), T0 + 10), alice);
        assertEquals(List.of(alice), store.participants().all());
        assertEquals(alice, store.participants().get(alice.id()).orElseThrow());

        assertEquals(new Redemption.Refused(Redemption.Reason.ALREADY_USED),
                store.participants().redeemInvite(token, Ed25519Keys.base64(key("mallory")), T0 + 11));
        assertEquals(new Redemption.Refused(Redemption.Reason.UNKNOWN),
                store.participants().redeemInvite(token + "x", Ed25519Keys.base64(key("mallory")), T0 + 11));
        assertEquals(new Redemption.Refused(Redemption.Reason.UNKNOWN), store.participants().redeemInvite("", "AAAA", T0));
        assertEquals(new Redemption.Refused(Redemption.Reason.UNKNOWN), store.participants().redeemInvite("x".repeat(100_000), "AAAA", T0));
        assertEquals(1, store.events().all().stream().filter(e -> e.kind() == EventKind.PARTICIPANT_ENROLLED).count());
    }

    @Test
    void inviteRefusalsStoreNothing() {
        String expired = store.participants().createInvite("bob", T0, 1000);
        assertEquals(new Redemption.Refused(Redemption.Reason.EXPIRED), store.participants().redeemInvite(expired, Ed25519Keys.base64(key("bob")), T0 + 1000));

        String badKey = store.participants().createInvite("carol", T0, 60_000);
        for (String key : new String[]{"not base64!", Ed25519Keys.base64(new byte[31]), Ed25519Keys.base64(new byte[33]), "", "A".repeat(5000)}) {
            assertEquals(new Redemption.Refused(Redemption.Reason.MALFORMED_KEY), store.participants().redeemInvite(badKey, key, T0 + 1), key);
        }
        assertInstanceOf(Redemption.Enrolled.class, store.participants().redeemInvite(badKey, Ed25519Keys.base64(key("carol")), T0 + 2));

        String sameKey = store.participants().createInvite("dave", T0, 60_000);
        assertEquals(new Redemption.Refused(Redemption.Reason.KEY_REGISTERED), store.participants().redeemInvite(sameKey, Ed25519Keys.base64(key("carol")), T0 + 3));

        String first = store.participants().createInvite("erin", T0, 60_000);
        String second = store.participants().createInvite("erin", T0, 60_000);
        assertInstanceOf(Redemption.Enrolled.class, store.participants().redeemInvite(first, Ed25519Keys.base64(key("erin")), T0 + 4));
        assertEquals(new Redemption.Refused(Redemption.Reason.NAME_TAKEN), store.participants().redeemInvite(second, Ed25519Keys.base64(key("erin2")), T0 + 5));

        assertEquals(List.of("carol", "erin"), store.participants().all().stream().map(Participant::name).toList());
        UserException taken = assertThrows(UserException.class, () -> store.participants().createInvite("carol", T0, 60_000));
        assertTrue(taken.getMessage().contains("already enrolled"), taken.getMessage());
        assertThrows(UserException.class, () -> store.participants().createInvite("no spaces", T0, 60_000));
        assertThrows(UserException.class, () -> store.participants().createInvite("", T0, 60_000));
        assertThrows(UserException.class, () -> store.participants().createInvite("x".repeat(65), T0, 60_000));
        assertThrows(UserException.class, () -> store.participants().createInvite("frank", T0, 0));
    }

    /** Runs {@code task(i)} for i = 0..n-1 on n threads that start together; returns the results in order. */
    private static <T> List<T> race(int n, java.util.function.IntFunction<T> task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    start.await();
                    return task.apply(index);
                }));
            }
            start.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(60, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * {@link #race} with each task on its own connection to the database ({@code n} stores, as {@code n} serve
     * processes would have), so that the database, not this process's lock, decides between them.
     */
    private <T> List<T> raceOnOwnConnections(int n, java.util.function.BiFunction<PlatformStore, Integer, T> task) throws Exception {
        List<Database> opened = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                opened.add(Database.open(url));
            }
            return race(n, i -> task.apply(new PlatformStore(opened.get(i)), i));
        } finally {
            opened.forEach(Database::close);
        }
    }

    @Test
    void concurrentRedemptionsOfOneInviteEnrollOnce() throws Exception {
        String token = store.participants().createInvite("racer", T0, 60_000);
        List<Redemption> results = race(8, i -> store.participants().redeemInvite(token, Ed25519Keys.base64(key("racer " + i)), T0 + 1));
        assertEquals(1, results.stream().filter(r -> r instanceof Redemption.Enrolled).count(), results.toString());
        assertTrue(results.stream().filter(r -> !(r instanceof Redemption.Enrolled))
                .allMatch(r -> r.equals(new Redemption.Refused(Redemption.Reason.ALREADY_USED))), results.toString());
        assertEquals(1, store.participants().all().size());
    }

    // ------------------------------------------------------------------ leases

    @Test
    void leasesGoToTheLowestFreeShardOrThePreferredOneAndAreRenewedForTheirHolder() {
        List<String> ids = round(3, "a", "b", "c", "d");
        String a = ids.get(0);
        String b = ids.get(1);
        String c = ids.get(2);
        String d = ids.get(3);

        LeaseResult.Leased la = leased(a, T0);
        assertEquals(0, la.shard());
        assertEquals(T0 + LEASE, la.expires());
        assertFalse(la.renewed());
        assertTrue(la.leaseId().length() >= 32, "lease ids are long random strings");

        LeaseResult.Leased lb = assertInstanceOf(LeaseResult.Leased.class, store.leases().lease(b, T0 + 1, LEASE, 2));
        assertEquals(2, lb.shard(), "preferred shard when free");
        assertNotEquals(la.leaseId(), lb.leaseId());

        LeaseResult.Leased again = assertInstanceOf(LeaseResult.Leased.class, store.leases().lease(a, T0 + 5, LEASE, 1));
        assertEquals(new LeaseResult.Leased(0, la.leaseId(), T0 + 5 + LEASE, true), again, "a holder gets its own lease back, renewed");

        LeaseResult.Leased lc = assertInstanceOf(LeaseResult.Leased.class, store.leases().lease(c, T0 + 6, LEASE, 0));
        assertEquals(1, lc.shard(), "a preferred shard leased to someone else is not given");

        assertEquals(new LeaseResult.Wait(T0 + 1 + LEASE), store.leases().lease(d, T0 + 7, LEASE, null), "wait for the earliest expiry");

        Shard s0 = store.rounds().shard(0).orElseThrow();
        assertEquals(new Shard(0, 1000, sha("shard 0"), ShardState.LEASED, a, T0 + 5 + LEASE, null), s0);
        assertTrue(store.rounds().shard(7).isEmpty());
    }

    @Test
    void anExpiredLeaseIsRetakenAndItsOldHolderIsRefused() {
        List<String> ids = round(1, "a", "b");
        String a = ids.get(0);
        String b = ids.get(1);
        LeaseResult.Leased la = leased(a, T0);
        assertInstanceOf(LeaseResult.Wait.class, store.leases().lease(b, T0 + LEASE - 1, LEASE, null));

        // expired but not taken over: the holder may still renew and upload
        assertEquals(new Renewal.Renewed(T0 + LEASE + 5 + LEASE), store.leases().renew(a, 0, la.leaseId(), T0 + LEASE + 5, LEASE));

        LeaseResult.Leased lb = leased(b, T0 + 2 * LEASE + 5);
        assertEquals(0, lb.shard());
        assertFalse(lb.renewed());
        Event retaken = store.events().all().get(store.events().all().size() - 1);
        assertEquals(EventKind.LEASE_RETAKEN, retaken.kind());
        assertEquals(b, retaken.participantId());
        assertTrue(retaken.detail().contains(a), retaken.detail());

        Renewal refused = store.leases().renew(a, 0, la.leaseId(), T0 + 2 * LEASE + 6, LEASE);
        assertTrue(assertInstanceOf(Renewal.Refused.class, refused).reason().contains("another participant"), refused.toString());
        UploadResult late = store.uploads().acceptShard(a, 0, la.leaseId(), "f", sha("a0"), 10, 5, 3, T0 + 2 * LEASE + 7);
        assertInstanceOf(UploadResult.Refused.class, late);

        assertInstanceOf(LeaseResult.Wait.class, store.leases().lease(a, T0 + 2 * LEASE + 8, LEASE, null), "the only shard is b's now");
    }

    /** A participant renewing without uploading holds a shard at most the cap, which then goes to someone else first. */
    @Test
    void aLeaseIsHeldNoLongerThanTheCapThenTheShardGoesToOthersFirst() {
        long cap = 25_000;
        List<String> ids = round(2, "squatter", "honest");
        String s = ids.get(0);
        String h = ids.get(1);
        LeaseResult.Leased l = assertInstanceOf(LeaseResult.Leased.class, capped(s, T0, cap));
        assertEquals(0, l.shard());
        assertEquals(T0 + LEASE, l.expires());
        assertEquals(new Renewal.Renewed(T0 + 8_000 + LEASE), store.leases().renew(s, 0, l.leaseId(), T0 + 8_000, LEASE, cap));
        // renewing near the cap never extends past it, whether by renewal or by asking for a lease again
        assertEquals(new Renewal.Renewed(T0 + cap), store.leases().renew(s, 0, l.leaseId(), T0 + 20_000, LEASE, cap));
        LeaseResult.Leased again = assertInstanceOf(LeaseResult.Leased.class, capped(s, T0 + 21_000, cap));
        assertEquals(new LeaseResult.Leased(0, l.leaseId(), T0 + cap, true), again);
        // at the cap: refused, and the shard is open again
        String why = reason(store.leases().renew(s, 0, l.leaseId(), T0 + cap, LEASE, cap));
        assertTrue(why.contains("longest a lease may be held without an upload (25s)"), why);
        Event capped = store.events().all().get(store.events().all().size() - 1);
        assertEquals(EventKind.LEASE_CAPPED, capped.kind());
        assertEquals(s, capped.participantId());
        assertEquals(ShardState.OPEN, store.rounds().shards().get(0).state());
        // asking again, the squatter is offered the other shard; the capped one goes to the honest participant
        assertEquals(1, assertInstanceOf(LeaseResult.Leased.class, capped(s, T0 + cap + 1, cap)).shard());
        assertEquals(0, assertInstanceOf(LeaseResult.Leased.class, capped(h, T0 + cap + 2, cap)).shard());
        // the cap counts from when a lease was taken: the honest participant's lease is good until its own cap
        LeaseResult.Leased hl = assertInstanceOf(LeaseResult.Leased.class, capped(h, T0 + cap + 3, cap));
        assertTrue(hl.renewed());
        assertEquals(T0 + cap + 3 + LEASE, hl.expires());
        assertInstanceOf(UploadResult.Accepted.class,
                store.uploads().acceptShard(h, 0, hl.leaseId(), "f", sha("h0"), 10, 5, 3, T0 + cap + 4));
    }

    @Test
    void aSquatterAskingForALeaseAtTheCapGivesItUp() {
        long cap = 25_000;
        String s = round(1, "squatter").get(0);
        LeaseResult.Leased l = assertInstanceOf(LeaseResult.Leased.class, capped(s, T0, cap));
        store.leases().renew(s, 0, l.leaseId(), T0 + 9_000, LEASE, cap);
        store.leases().renew(s, 0, l.leaseId(), T0 + 18_000, LEASE, cap);
        // the only shard is open again; the squatter may take it anew (no one else asked) under a new lease id
        LeaseResult.Leased anew = assertInstanceOf(LeaseResult.Leased.class, capped(s, T0 + cap, cap));
        assertFalse(anew.renewed());
        assertNotEquals(l.leaseId(), anew.leaseId());
        assertTrue(store.events().all().stream().anyMatch(e -> e.kind() == EventKind.LEASE_CAPPED));
        assertTrue(reason(store.leases().renew(s, 0, l.leaseId(), T0 + cap + 1, LEASE, cap)).contains("lease id does not match"));
    }

    /** An organisation's machines: one participant, several workers, each with a lease of its own up to the bound. */
    @Test
    void aParticipantsWorkersHoldSeveralLeasesUpToTheBound() {
        long cap = LeaseRepository.NO_LEASE_CAP;
        List<String> ids = round(4, "org", "other");
        String org = ids.get(0);
        String other = ids.get(1);
        int[] shards = new int[3];
        String[] leaseIds = new String[3];
        for (int w = 0; w < 3; w++) {
            LeaseResult.Leased l = assertInstanceOf(LeaseResult.Leased.class,
                    store.leases().lease(org, "m" + w, T0 + w, LEASE, cap, 3, null));
            assertFalse(l.renewed());
            shards[w] = l.shard();
            leaseIds[w] = l.leaseId();
        }
        assertArrayEquals(new int[] {0, 1, 2}, shards, "three workers, three shards at once");
        // a worker asking again gets its own lease back, renewed
        assertEquals(new LeaseResult.Leased(1, leaseIds[1], T0 + 5 + LEASE, true),
                store.leases().lease(org, "m1", T0 + 5, LEASE, cap, 3, null));
        // a fourth worker waits for the first of the organisation's leases to end; the bound is per participant
        assertEquals(new LeaseResult.Wait(T0 + LEASE), store.leases().lease(org, "m3", T0 + 6, LEASE, cap, 3, null));
        assertEquals(3, assertInstanceOf(LeaseResult.Leased.class, store.leases().lease(other, T0 + 7, LEASE, null)).shard());
        // each worker uploads its own shard
        for (int w = 0; w < 3; w++) {
            assertInstanceOf(UploadResult.Accepted.class,
                    store.uploads().acceptShard(org, shards[w], leaseIds[w], "f" + w, sha("org" + w), 10, 5, 3, T0 + 8 + w));
        }
        assertThrows(IllegalArgumentException.class, () -> store.leases().lease(org, "two words", T0 + 20, LEASE, cap, 3, null));
        assertThrows(IllegalArgumentException.class, () -> store.leases().lease(org, "x".repeat(65), T0 + 20, LEASE, cap, 3, null));
        assertThrows(IllegalArgumentException.class, () -> store.leases().lease(org, "m0", T0 + 20, LEASE, cap, 0, null));
    }

    /** A participant that names no worker (one process, or a client of before workers) holds one lease, as it always did. */
    @Test
    void anUnnamedWorkerHoldsOneLease() {
        List<String> ids = round(3, "solo");
        String solo = ids.get(0);
        LeaseResult.Leased first = leased(solo, T0);
        assertEquals(new LeaseResult.Leased(0, first.leaseId(), T0 + 1 + LEASE, true), store.leases().lease(solo, T0 + 1, LEASE, null));
    }

    @Test
    void renewalRefusals() {
        List<String> ids = round(2, "a", "b");
        String a = ids.get(0);
        String b = ids.get(1);
        LeaseResult.Leased la = leased(a, T0);
        assertTrue(reason(store.leases().renew(a, 0, "wrong", T0 + 1, LEASE)).contains("lease id does not match"));
        assertTrue(reason(store.leases().renew(a, 0, "x".repeat(10_000), T0 + 1, LEASE)).contains("lease id does not match"));
        assertTrue(reason(store.leases().renew(a, 0, null, T0 + 1, LEASE)).contains("lease id does not match"));
        assertTrue(reason(store.leases().renew(b, 0, la.leaseId(), T0 + 1, LEASE)).contains("another participant"));
        assertTrue(reason(store.leases().renew(a, 1, la.leaseId(), T0 + 1, LEASE)).contains("not leased to you"));
        assertTrue(reason(store.leases().renew(a, 99, la.leaseId(), T0 + 1, LEASE)).contains("no shard 99"));
        assertTrue(reason(store.leases().renew(a, -1, la.leaseId(), T0 + 1, LEASE)).contains("no shard -1"));
        assertInstanceOf(UploadResult.Accepted.class, store.uploads().acceptShard(a, 0, la.leaseId(), "f", sha("a0"), 10, 5, 3, T0 + 2));
        assertTrue(reason(store.leases().renew(a, 0, la.leaseId(), T0 + 3, LEASE)).contains("already accepted"));
        assertThrows(IllegalArgumentException.class, () -> store.leases().renew("p-0000000000000000", 0, "x", T0, LEASE));
        assertThrows(IllegalArgumentException.class, () -> store.leases().lease(a, T0, 0, null));
    }

    private static String reason(Renewal r) {
        return assertInstanceOf(Renewal.Refused.class, r).reason();
    }

    @Test
    void concurrentLeasesNeverGiveOneShardToTwo() throws Exception {
        int shardCount = 6;
        int participants = 10;
        store.rounds().init("{}", shards(shardCount), T0);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < participants; i++) {
            ids.add(enroll("p" + i));
        }
        List<LeaseResult> results = race(participants, i -> store.leases().lease(ids.get(i), T0 + 10, LEASE, 0));
        Map<Integer, Integer> holders = new HashMap<>();
        for (LeaseResult r : results) {
            if (r instanceof LeaseResult.Leased l) {
                holders.merge(l.shard(), 1, Integer::sum);
            } else {
                assertInstanceOf(LeaseResult.Wait.class, r);
            }
        }
        assertEquals(shardCount, holders.size());
        assertTrue(holders.values().stream().allMatch(n -> n == 1), holders.toString());
    }

    @Test
    void leasersOnSeparateConnectionsEachTakeADifferentFreeShardAtOnce() throws Exception {
        int participants = 8;
        int groups = 3;
        store.rounds().init("{}", shards(12), T0);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < participants * groups; i++) {
            ids.add(enroll("p" + i));
        }
        for (int g = 0; g < groups; g++) {
            long now = T0 + 10 + g * 2 * LEASE; // the earlier groups' leases have expired: open and expired shards mix
            int first = g * participants;
            List<LeaseResult> results = raceOnOwnConnections(participants, (own, i) -> own.leases().lease(ids.get(first + i), now, LEASE, 0));
            Map<Integer, String> holders = new HashMap<>();
            for (int i = 0; i < participants; i++) {
                String id = ids.get(first + i);
                LeaseResult.Leased l = assertInstanceOf(LeaseResult.Leased.class, results.get(i),
                        "with more free shards than leasers, nobody waits: " + results);
                assertFalse(l.renewed());
                assertNull(holders.put(l.shard(), id), "shard " + l.shard() + " leased twice: " + results);
                assertEquals(id, store.rounds().shard(l.shard()).orElseThrow().leaseHolder());
                assertInstanceOf(Renewal.Renewed.class, store.leases().renew(id, l.shard(), l.leaseId(), now + 1, LEASE),
                        "the lease id each was given is the current one");
            }
        }
        long taken = store.events().all().stream().filter(e -> e.kind() == EventKind.LEASE_TAKEN || e.kind() == EventKind.LEASE_RETAKEN).count();
        assertEquals((long) participants * groups, taken, "one lease event per lease");
    }

    @Test
    void oneParticipantLeasingOnTwoConnectionsAtOnceGetsOneShard() throws Exception {
        List<String> ids = round(4, "twice");
        for (int attempt = 0; attempt < 5; attempt++) {
            long now = T0 + 10 + attempt * 2 * LEASE;
            List<LeaseResult> results = raceOnOwnConnections(2, (own, i) -> own.leases().lease(ids.get(0), now, LEASE, null));
            LeaseResult.Leased a = assertInstanceOf(LeaseResult.Leased.class, results.get(0));
            LeaseResult.Leased b = assertInstanceOf(LeaseResult.Leased.class, results.get(1));
            assertEquals(a.shard(), b.shard(), "the same shard, once taken and once renewed: " + results);
            assertEquals(a.leaseId(), b.leaseId());
            assertEquals(1, store.rounds().shards().stream().filter(s -> s.state() == ShardState.LEASED).count());
            assertTrue(a.renewed() != b.renewed() || attempt > 0, results.toString());
        }
    }

    @Test
    void leaseSaysDoneWhenEveryShardIsAccepted() {
        List<String> ids = round(2, "a");
        String a = ids.get(0);
        for (int i = 0; i < 2; i++) {
            LeaseResult.Leased l = leased(a, T0 + i);
            assertEquals(i, l.shard());
            assertInstanceOf(UploadResult.Accepted.class, store.uploads().acceptShard(a, l.shard(), l.leaseId(), "f" + i, sha("a" + i), 10, 5, 3, T0 + i));
        }
        // every shard is in, but until fusion begins a quarantine may still open shards again: wait
        assertInstanceOf(LeaseResult.Wait.class, store.leases().lease(a, T0 + 5, LEASE, null));
        assertTrue(store.fusion().set(FusionState.RUNNING, "a1b2c3d4e5f60718", false, null, T0 + 6));
        assertEquals(new LeaseResult.Done(), store.leases().lease(a, T0 + 7, LEASE, null));
        assertEquals(new LeaseResult.Done(), store.leases().lease(enroll("b"), T0 + 7, LEASE, 1));
    }

    // ------------------------------------------------------------------ audits and quarantine

    @Test
    void anAcceptedUploadCarriesItsAuditWhichPassesOnce() {
        List<String> ids = round(2, "a");
        String a = ids.get(0);
        LeaseResult.Leased l = leased(a, T0);
        UploadResult.Accepted u = assertInstanceOf(UploadResult.Accepted.class, store.uploads().acceptShard(a, l.shard(),
                l.leaseId(), "f0", sha("a0"), 10, 5, 3, T0 + 1, new long[] {4, 0, 2}, T0 + 1000));
        List<AuditRecord> pending = store.audits().pending(a);
        assertEquals(1, pending.size());
        AuditRecord audit = pending.get(0);
        assertEquals(u.uploadId(), audit.uploadId());
        assertArrayEquals(new long[] {4, 0, 2}, audit.sample());
        assertEquals(AuditState.PENDING, audit.state());
        assertEquals(T0 + 1000, audit.deadline());
        assertTrue(store.audits().finish(audit.id(), true, null, T0 + 2));
        assertFalse(store.audits().finish(audit.id(), false, "too late", T0 + 3), "settled once");
        assertEquals(AuditState.PASSED, store.audits().get(audit.id()).orElseThrow().state());
        assertTrue(store.audits().pending(a).isEmpty());
        assertFalse(store.participants().get(a).orElseThrow().quarantined());
    }

    @Test
    void aFailedAuditQuarantinesItsParticipantAndOpensItsShardsAgain() {
        List<String> ids = round(3, "a", "b");
        String a = ids.get(0);
        String b = ids.get(1);
        LeaseResult.Leased l0 = leased(a, T0);
        store.uploads().acceptShard(a, l0.shard(), l0.leaseId(), "f0", sha("a0"), 10, 5, 3, T0 + 1, new long[] {1}, T0 + 1000);
        LeaseResult.Leased l1 = leased(a, T0 + 2);
        store.uploads().acceptShard(a, l1.shard(), l1.leaseId(), "f1", sha("a1"), 10, 5, 3, T0 + 3, new long[] {2}, T0 + 1000);
        LeaseResult.Leased held = leased(a, T0 + 4); // a holds the third shard when it is quarantined
        long first = store.audits().pending(a).get(0).id();
        assertTrue(store.audits().finish(first, false, "3 of 160 rows differ", T0 + 5));

        Participant q = store.participants().get(a).orElseThrow();
        assertTrue(q.quarantined());
        assertEquals("audit of shard 0 failed: 3 of 160 rows differ", q.quarantineReason());
        assertTrue(store.rounds().shards().stream().allMatch(s -> s.state() == ShardState.OPEN && s.leaseHolder() == null),
                "both accepted shards and the held one are open again: " + store.rounds().shards());
        assertTrue(store.uploads().all().stream().noneMatch(Upload::accepted));
        assertTrue(store.uploads().all().stream().allMatch(u -> u.reason().startsWith("quarantined: audit of shard 0 failed")));
        assertEquals(AuditState.FAILED, store.audits().all().get(1).state(), "its other audit fails with it");
        assertEquals("its participant was quarantined", store.audits().all().get(1).reason());
        assertFalse(store.audits().quarantine(a, "again", T0 + 6), "quarantined once");

        // a quarantined participant's upload is refused; another participant takes the shard and is accepted
        UploadResult late = store.uploads().acceptShard(a, held.shard(), held.leaseId(), "f2", sha("a2"), 10, 5, 3, T0 + 7);
        assertTrue(late instanceof UploadResult.Refused, late.toString());
        LeaseResult.Leased lb = leased(b, T0 + 8);
        assertEquals(0, lb.shard());
        assertInstanceOf(UploadResult.Accepted.class, store.uploads().acceptShard(b, 0, lb.leaseId(), "g0", sha("b0"), 10, 5,
                3, T0 + 9, new long[] {3}, T0 + 1000));
        assertEquals(1, store.events().all().stream().filter(e -> e.kind() == EventKind.PARTICIPANT_QUARANTINED).count());
    }

    @Test
    void anAuditNotAnsweredByItsDeadlineFailsAndADowntimeExtendsIt() {
        List<String> ids = round(2, "a");
        String a = ids.get(0);
        LeaseResult.Leased l = leased(a, T0);
        store.uploads().acceptShard(a, l.shard(), l.leaseId(), "f0", sha("a0"), 10, 5, 3, T0 + 1, new long[] {1}, T0 + 100);
        assertEquals(1, store.audits().extendPending(T0 + 500), "the platform was down: full time again");
        assertEquals(0, store.audits().expire(T0 + 499));
        assertEquals(1, store.audits().expire(T0 + 500));
        AuditRecord audit = store.audits().all().get(0);
        assertEquals(AuditState.FAILED, audit.state());
        assertEquals("not answered by its deadline", audit.reason());
        assertEquals("audit of shard 0 failed: not answered by its deadline",
                store.participants().get(a).orElseThrow().quarantineReason());
    }

    // ------------------------------------------------------------------ uploads

    @Test
    void anUploadIsAcceptedOnceAndItsRetryIsIdempotent() {
        List<String> ids = round(2, "a", "b");
        String a = ids.get(0);
        String b = ids.get(1);
        LeaseResult.Leased la = leased(a, T0);

        // an expired lease that nobody took over still counts
        UploadResult first = store.uploads().acceptShard(a, 0, la.leaseId(), "uploads/a0", sha("a0"), 4096, 1000, 64, T0 + LEASE + 1);
        long id = assertInstanceOf(UploadResult.Accepted.class, first).uploadId();
        assertEquals(new UploadResult.Already(id), store.uploads().acceptShard(a, 0, la.leaseId(), "uploads/a0", sha("a0"), 4096, 1000, 64, T0 + LEASE + 2));
        assertEquals(new UploadResult.Already(id), store.uploads().acceptShard(a, 0, "any", "uploads/a0", sha("a0"), 4096, 1000, 64, T0 + LEASE + 2));
        assertTrue(refusal(store.uploads().acceptShard(a, 0, la.leaseId(), "uploads/a0b", sha("a0b"), 4096, 1000, 64, T0 + LEASE + 3))
                .contains("already accepted"));
        assertTrue(refusal(store.uploads().acceptShard(b, 0, la.leaseId(), "uploads/b0", sha("a0"), 4096, 1000, 64, T0 + LEASE + 3))
                .contains("already accepted"));

        Shard s0 = store.rounds().shard(0).orElseThrow();
        assertEquals(new Shard(0, 1000, sha("shard 0"), ShardState.ACCEPTED, null, null, id), s0);
        List<Upload> uploads = store.uploads().all();
        assertEquals(3, uploads.size());
        assertEquals(new Upload(id, 1, 0, a, true, null, "uploads/a0", sha("a0"), 4096, 1000, 64, T0 + LEASE + 1), uploads.get(0));
        assertFalse(uploads.get(1).accepted());
        assertFalse(uploads.get(2).accepted());
        assertEquals(b, uploads.get(2).participantId());
    }

    @Test
    void uploadsWithoutTheLeaseAreRefusedAndAudited() {
        List<String> ids = round(2, "a", "b");
        String a = ids.get(0);
        String b = ids.get(1);
        LeaseResult.Leased la = leased(a, T0);
        assertTrue(refusal(store.uploads().acceptShard(b, 0, la.leaseId(), "f", sha("b0"), 1, 1, 1, T0 + 1)).contains("another participant"));
        assertTrue(refusal(store.uploads().acceptShard(a, 0, "forged", "f", sha("a0"), 1, 1, 1, T0 + 2)).contains("lease id"));
        assertTrue(refusal(store.uploads().acceptShard(a, 1, la.leaseId(), "f", sha("a1"), 1, 1, 1, T0 + 3)).contains("not leased to you"));
        assertTrue(refusal(store.uploads().acceptShard(a, 5, la.leaseId(), "f", sha("a5"), 1, 1, 1, T0 + 4)).contains("no shard 5"));
        long refusedId = store.uploads().recordRefused(null, null, "unsigned request:\nheader missing", 77, T0 + 5);
        store.uploads().recordRefused(a, 0, "NaN in row 3", 99, T0 + 6);
        assertThrows(IllegalArgumentException.class, () -> store.uploads().recordRefused("p-ffffffffffffffff", 0, "x", 1, T0));
        assertThrows(IllegalArgumentException.class, () -> store.uploads().acceptShard(a, 0, la.leaseId(), "f", "not a sha", 1, 1, 1, T0));

        List<Upload> uploads = store.uploads().all();
        assertEquals(6, uploads.size());
        assertTrue(uploads.stream().noneMatch(Upload::accepted));
        assertNull(uploads.get(3).shard(), "an unknown shard number is not recorded as a shard");
        Upload unsigned = uploads.get(4);
        assertEquals(new Upload(refusedId, 1, null, null, false, "unsigned request: header missing", null, null, 77, null, null, T0 + 5), unsigned);
        assertEquals(6, store.events().all().stream().filter(e -> e.kind() == EventKind.UPLOAD_REFUSED).count());
        assertEquals(ShardState.LEASED, store.rounds().shard(0).orElseThrow().state(), "refusals change no shard");
        assertInstanceOf(UploadResult.Accepted.class, store.uploads().acceptShard(a, 0, la.leaseId(), "f", sha("a0"), 1, 1, 1, T0 + 7));
    }

    private static String refusal(UploadResult r) {
        return assertInstanceOf(UploadResult.Refused.class, r).reason();
    }

    @Test
    void sharedOutputsAreAcceptedOncePerParticipant() {
        List<String> ids = round(1, "a", "b");
        String a = ids.get(0);
        String b = ids.get(1);
        assertEquals(SharedResult.ACCEPTED, store.uploads().acceptShared(a, "shared/a", sha("sa"), 64, "{\"prior\":\"zoo:x\"}", 0.25, T0));
        assertEquals(SharedResult.ALREADY, store.uploads().acceptShared(a, "shared/a", sha("sa"), 64, "{\"prior\":\"zoo:x\"}", 0.25, T0 + 1));
        assertEquals(SharedResult.CONFLICT, store.uploads().acceptShared(a, "shared/a2", sha("sa2"), 64, "{}", 0.5, T0 + 2));
        assertEquals(SharedResult.ACCEPTED, store.uploads().acceptShared(b, "shared/b", sha("sb"), 32, "{}", -1.5, T0 + 3));
        assertThrows(IllegalArgumentException.class, () -> store.uploads().acceptShared(b, "f", sha("x"), 32, "{}", Double.NaN, T0));
        List<SharedOutput> expected = new ArrayList<>(List.of(new SharedOutput(a, "shared/a", sha("sa"), 64, "{\"prior\":\"zoo:x\"}", 0.25, T0),
                new SharedOutput(b, "shared/b", sha("sb"), 32, "{}", -1.5, T0 + 3)));
        expected.sort(java.util.Comparator.comparing(SharedOutput::participantId));
        assertEquals(expected, store.uploads().sharedOutputs(), "by participant id");
        assertEquals(2, store.events().all().stream().filter(e -> e.kind() == EventKind.SHARED_ACCEPTED).count());
    }

    // ------------------------------------------------------------------ replay protection

    @Test
    void aSignedRequestIsAcceptedOnceWithinTheWindow() {
        String a = enroll("a");
        String request = sha("POST /lease 1");
        assertTrue(store.signatures().record(a, request, T0, T0, 60_000));
        assertFalse(store.signatures().record(a, request, T0, T0 + 59_000, 60_000), "a replay");
        assertTrue(store.signatures().record(a, sha("other"), T0 + 1, T0 + 59_000, 60_000));
        // once the request's time has left the window it is forgotten (its timestamp is refused anyway)
        assertTrue(store.signatures().record(a, request, T0, T0 + 60_001, 60_000));
        long remembered = db.transaction(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM seen_requests")) {
                rs.next();
                return rs.getLong(1);
            }
        });
        assertEquals(2, remembered, "rows older than the window are purged");
    }

    // ------------------------------------------------------------------ events and fusion

    @Test
    void theTimelineRecordsLeasesUploadsAndFusion() {
        List<String> ids = round(1, "a");
        String a = ids.get(0);
        LeaseResult.Leased l = leased(a, T0 + 10);
        store.leases().renew(a, 0, l.leaseId(), T0 + 11, LEASE);
        long upload = assertInstanceOf(UploadResult.Accepted.class,
                store.uploads().acceptShard(a, 0, l.leaseId(), "f", sha("a0"), 1, 1, 1, T0 + 12)).uploadId();
        store.uploads().acceptShared(a, "s", sha("s"), 4, "{}", 0.1, T0 + 13);
        assertTrue(store.fusion().set(FusionState.RUNNING, "server-a", false, null, T0 + 14));
        assertTrue(store.fusion().set(FusionState.DONE, "server-a", false, "{\"rows\":1000}", T0 + 15));

        List<Event> events = store.events().all();
        // a renewal updates the lease row only: no event (polling renewals grew the timeline without bound)
        assertEquals(List.of(EventKind.PARTICIPANT_ENROLLED, EventKind.LEASE_TAKEN, EventKind.UPLOAD_ACCEPTED,
                EventKind.SHARED_ACCEPTED, EventKind.FUSION_STARTED, EventKind.FUSION_FINISHED), events.stream().map(Event::kind).toList());
        Event accepted = events.get(2);
        assertEquals(new Event(accepted.id(), 1, T0 + 12, EventKind.UPLOAD_ACCEPTED, a, 0, upload, null), accepted);
        assertNull(events.get(0).round(), "enrolment belongs to no round");
        for (int i = 1; i < events.size(); i++) {
            assertTrue(events.get(i).id() > events.get(i - 1).id());
        }
        assertEquals(events.subList(2, 4), store.events().after(events.get(1).id(), 2));
        assertEquals(events.subList(3, 6), store.events().recent(3), "the newest three, oldest first");
        assertEquals(Optional.of(T0 + 14), store.events().lastAt(EventKind.FUSION_STARTED, 1));
        assertEquals(Optional.empty(), store.events().lastAt(EventKind.FUSION_STARTED, 2));
        List<Upload> uploads = store.uploads().all();
        assertEquals(uploads.subList(uploads.size() - 1, uploads.size()), store.uploads().recent(1));
        assertEquals((long) uploads.size(), store.uploads().counts().get("accepted"));
        assertEquals(0L, store.uploads().counts().get("refused"));
    }

    @Test
    void fusionMovesWaitingRunningDoneOrFailed() {
        store.rounds().init("{}", shards(1), T0);
        assertFalse(store.fusion().set(FusionState.DONE, "a", false, null, T0 + 1), "not running");
        assertFalse(store.fusion().set(FusionState.WAITING, "a", false, null, T0 + 1));
        assertTrue(store.fusion().set(FusionState.RUNNING, "a", true, null, T0 + 2));
        assertFalse(store.fusion().set(FusionState.RUNNING, "a", false, null, T0 + 3), "a second run while one runs");
        assertFalse(store.fusion().set(FusionState.RUNNING, "b", false, null, T0 + 3), "a second run while one runs");
        assertEquals(new Fusion(FusionState.RUNNING, true, null, T0 + 2, "a", T0 + 2), store.fusion().state());
        assertTrue(store.fusion().set(FusionState.FAILED, "a", false, "{\"error\":\"interrupted by a restart\"}", T0 + 4));
        assertEquals(new Fusion(FusionState.FAILED, true, "{\"error\":\"interrupted by a restart\"}", T0 + 4, "a", null),
                store.fusion().state());
        assertTrue(store.fusion().set(FusionState.RUNNING, "b", false, null, T0 + 5));
        assertTrue(store.fusion().set(FusionState.DONE, "b", true, "{}", T0 + 6));
        assertEquals(new Fusion(FusionState.DONE, false, "{}", T0 + 6, "b", null), store.fusion().state());
        assertFalse(store.fusion().set(FusionState.RUNNING, "a", false, null, T0 + 7), "done is final");
        Event started = store.events().all().stream().filter(e -> e.kind() == EventKind.FUSION_STARTED).findFirst().orElseThrow();
        assertEquals("forced", started.detail());
        assertThrows(IllegalArgumentException.class, () -> store.fusion().set(FusionState.RUNNING, null, false, null, T0));
    }

    @Test
    void onlyTheOwnerOfARunningFusionBeatsAndEndsItAndASilentOneIsAbandoned() {
        store.rounds().init("{}", shards(1), T0);
        assertFalse(store.fusion().heartbeat("a", T0 + 1), "nothing runs");
        assertFalse(store.fusion().abandon(null, Long.MAX_VALUE, "{}", T0 + 1), "nothing runs");
        assertTrue(store.fusion().set(FusionState.RUNNING, "a", false, null, T0 + 2));
        assertFalse(store.fusion().heartbeat("b", T0 + 3), "not b's run");
        assertTrue(store.fusion().heartbeat("a", T0 + 10));
        assertEquals(T0 + 10, store.fusion().state().heartbeatAt());
        assertFalse(store.fusion().set(FusionState.DONE, "b", false, "{}", T0 + 11), "only the owner records the outcome");
        assertFalse(store.fusion().set(FusionState.FAILED, "b", false, "{}", T0 + 11), "only the owner records the outcome");
        assertFalse(store.fusion().abandon("a", T0 + 10, "{}", T0 + 12), "a heartbeat at the limit is recent");
        assertFalse(store.fusion().abandon("b", Long.MAX_VALUE, "{}", T0 + 12), "b does not run it");
        assertFalse(store.fusion().abandon(null, Long.MAX_VALUE, "{}", T0 + 12), "it has an owner");
        assertEquals(FusionState.RUNNING, store.fusion().state().state());

        assertTrue(store.fusion().abandon("a", T0 + 11, "{\"error\":\"gone\"}", T0 + 70));
        assertEquals(new Fusion(FusionState.FAILED, false, "{\"error\":\"gone\"}", T0 + 70, "a", null), store.fusion().state());
        assertFalse(store.fusion().heartbeat("a", T0 + 71), "the abandoned owner no longer runs it");
        assertFalse(store.fusion().set(FusionState.DONE, "a", false, "{}", T0 + 72), "nor records an outcome");
        assertTrue(store.fusion().set(FusionState.RUNNING, "b", false, null, T0 + 73), "another process takes it over");
        assertFalse(store.fusion().set(FusionState.DONE, "a", false, "{}", T0 + 74), "the old owner cannot end b's run");
        assertTrue(store.fusion().set(FusionState.DONE, "b", false, "{}", T0 + 75));
        assertEquals(List.of(EventKind.FUSION_STARTED, EventKind.FUSION_FAILED, EventKind.FUSION_STARTED, EventKind.FUSION_FINISHED),
                store.events().all().stream().map(Event::kind).toList());
    }

    @Test
    void ofManyProcessesClaimingFusionAtOnceExactlyOneRunsIt() throws Exception {
        store.rounds().init("{}", shards(1), T0);
        List<Boolean> claims = raceOnOwnConnections(8, (own, i) -> own.fusion().set(FusionState.RUNNING, "p" + i, false, null, T0 + 1));
        assertEquals(1, claims.stream().filter(b -> b).count(), claims.toString());
        String owner = store.fusion().state().owner();
        assertTrue(store.fusion().heartbeat(owner, T0 + 2), owner);
    }

    @Test
    void snapshotHasEverythingAndNoSecret() {
        store.rounds().init("{\"k\":2}", shards(2), T0);
        String a = enroll("a");
        LeaseResult.Leased l = leased(a, T0);
        Snapshot snapshot = store.snapshot();
        assertEquals(store.rounds().current().orElseThrow(), snapshot.round());
        assertEquals(store.rounds().shards(), snapshot.shards());
        assertEquals(store.participants().all(), snapshot.participants());
        assertEquals(store.fusion().state(), snapshot.fusion());
        assertFalse(snapshot.toString().contains(l.leaseId()), "the lease id is the holder's alone");
    }

    @Test
    void operationsBeforeTheRoundExistAreErrors() {
        String a = enroll("a");
        assertThrows(IllegalStateException.class, () -> store.leases().lease(a, T0, LEASE, null));
        assertThrows(IllegalStateException.class, () -> store.rounds().shards());
        assertThrows(IllegalStateException.class, () -> store.snapshot());
    }

    // ------------------------------------------------------------------ rounds

    @Test
    void theNextRoundOpensOnlyOnceTheCurrentIsFusedOverTheSameShardsAndKeepsTheOldRows() {
        UserException none = assertThrows(UserException.class, () -> store.rounds().next(T0));
        assertTrue(none.getMessage().contains("no round yet"), none.getMessage());
        store.rounds().init("{\"seed\":7}", shards(2), T0);
        String a = enroll("a");
        String b = enroll("b");
        assertEquals(SharedResult.ACCEPTED, store.uploads().acceptShared(a, "shared-a-1", sha("sa1"), 8, "{\"prior\":\"zoo:one\"}", 0.5, T0));
        for (int i = 0; i < 2; i++) {
            LeaseResult.Leased l = leased(a, T0 + 10 + i);
            assertInstanceOf(UploadResult.Accepted.class, store.uploads().acceptShard(a, l.shard(), l.leaseId(), "r1-" + i,
                    sha("r1-" + i), 10, 5, 8, T0 + 10 + i, new long[] {1, 2}, T0 + 1000));
        }
        store.audits().pending(a).forEach(x -> assertTrue(store.audits().finish(x.id(), true, null, T0 + 20)));

        // not finished while fusion waits, runs or failed: its fused dataset is not written yet
        UserException waiting = assertThrows(UserException.class, () -> store.rounds().next(T0 + 30));
        assertTrue(waiting.getMessage().contains("round 1 is not finished: its fusion is waiting"), waiting.getMessage());
        assertTrue(store.fusion().set(FusionState.RUNNING, "owner1", false, null, T0 + 31));
        assertThrows(UserException.class, () -> store.rounds().next(T0 + 32));
        assertTrue(store.fusion().set(FusionState.FAILED, "owner1", false, "{}", T0 + 33));
        assertTrue(assertThrows(UserException.class, () -> store.rounds().next(T0 + 34)).getMessage().contains("failed"));
        assertEquals(1, store.rounds().current().orElseThrow().id(), "a refused next round changes nothing");
        assertEquals(1, store.rounds().all().size());
        assertTrue(store.fusion().set(FusionState.RUNNING, "owner1", false, null, T0 + 35));
        assertTrue(store.fusion().set(FusionState.DONE, "owner1", false, "{}", T0 + 36));

        Round second = store.rounds().next(T0 + 40);
        assertEquals(new Round(2, "{\"seed\":7}", T0 + 40), second, "the same configuration");
        assertEquals(second, store.rounds().current().orElseThrow());
        assertEquals(List.of(new Shard(0, 1000, sha("shard 0"), ShardState.OPEN, null, null, null),
                new Shard(1, 1001, sha("shard 1"), ShardState.OPEN, null, null, null)), store.rounds().shards(), "fresh open shards");
        assertEquals(new Fusion(FusionState.WAITING, false, null, T0 + 40, null, null), store.fusion().state());
        assertEquals(List.of(new RoundSummary(1, T0, 2, 2, FusionState.DONE, T0 + 36),
                new RoundSummary(2, T0 + 40, 2, 0, FusionState.WAITING, T0 + 40)), store.rounds().all(), "round 1's rows are kept");
        assertTrue(store.uploads().all().isEmpty() && store.audits().all().isEmpty() && store.uploads().sharedOutputs().isEmpty(),
                "uploads, audits and outputs on S are the current round's");
        assertTrue(store.uploads().sharedOutput(a).isEmpty(), "each round its own outputs on S");
        Event opened = store.events().all().get(store.events().all().size() - 1);
        assertEquals(EventKind.ROUND_OPENED, opened.kind());
        assertEquals(2, opened.round());
        assertTrue(assertThrows(UserException.class, () -> store.rounds().next(T0 + 41)).getMessage()
                .contains("round 2 is not finished"), "round 3 waits for round 2");

        // round 2: another prior, leases and uploads on round 2's shards
        assertEquals(SharedResult.ACCEPTED, store.uploads().acceptShared(a, "shared-a-2", sha("sa2"), 16, "{\"prior\":\"zoo:two\"}", 0.1, T0 + 50));
        assertEquals(SharedResult.ACCEPTED, store.uploads().acceptShared(b, "shared-b-2", sha("sb2"), 16, "{}", 0.2, T0 + 50));
        LeaseResult.Leased l = leased(a, T0 + 51);
        assertEquals(0, l.shard());
        assertFalse(l.renewed());
        UploadResult.Accepted up = assertInstanceOf(UploadResult.Accepted.class, store.uploads().acceptShard(a, 0, l.leaseId(),
                "r2-0", sha("r2-0"), 10, 5, 16, T0 + 52, new long[] {3}, T0 + 2000));
        assertEquals(2, store.uploads().get(up.uploadId()).orElseThrow().round());
        assertEquals(1, leased(b, T0 + 53).shard());
        assertEquals(List.of(ShardState.ACCEPTED, ShardState.LEASED), store.rounds().shards().stream().map(Shard::state).toList());
        assertEquals(1, store.audits().pending(a).size(), "round 2's audit only");
        assertEquals(List.of(sha("sa2"), sha("sb2")), store.uploads().sharedOutputs().stream().map(SharedOutput::sha256).sorted().toList());
        assertEquals(java.util.Set.of("r1-0", "r1-1", "r2-0", "shared-a-1", "shared-a-2", "shared-b-2"), store.uploads().filesInUse());
        assertEquals(new RoundSummary(1, T0, 2, 2, FusionState.DONE, T0 + 36), store.rounds().all().get(0), "round 1 untouched");

        // a quarantine in round 2 withdraws round 2's work only: round 1 is fused and published
        assertTrue(store.audits().quarantine(a, "poisoned round 2", T0 + 60));
        assertEquals(ShardState.OPEN, store.rounds().shards().get(0).state());
        assertEquals(2, store.rounds().all().get(0).accepted());
        assertTrue(store.audits().all().stream().allMatch(x -> x.state() == AuditState.FAILED));
    }

    // ------------------------------------------------------------------ crash safety

    /**
     * A child JVM runs {@link CrashWorker} and is killed (SIGKILL) at a random moment: once while it starts,
     * then five times while it works (a random time after it says it is ready). After each kill the database
     * must be consistent; a last run finishes every shard, each exactly once.
     */
    @Test
    void killingTheProcessAtAnyMomentLeavesTheDatabaseConsistent(@org.junit.jupiter.api.io.TempDir Path logs) throws Exception {
        db.close();
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int kills = 6;
        boolean partial = false;
        for (int run = 0; run <= kills; run++) {
            boolean last = run == kills;
            Path log = logs.resolve("worker-" + run + ".log");
            Process child = new ProcessBuilder(javaCommand(), "-cp", testClassPath(), CrashWorker.class.getName(), url,
                    Long.toString(seed + run), "100000")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            String what;
            if (last) {
                if (!child.waitFor(240, TimeUnit.SECONDS)) {
                    child.destroyForcibly();
                    fail("the last worker run did not finish: " + read(log));
                }
                assertEquals(0, child.exitValue(), () -> "worker failed: " + read(log));
                assertTrue(read(log).contains("done=true"), () -> read(log));
                what = "ran to the end";
            } else {
                long delay;
                if (run == 0) {
                    delay = 100 + random.nextInt(800);
                    what = "killed " + delay + " ms after its start";
                } else {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (!read(log).contains("ready") && child.isAlive() && System.nanoTime() < deadline) {
                        Thread.sleep(5);
                    }
                    assertTrue(child.isAlive(), () -> "the worker ended before it was killed: " + read(log));
                    delay = 100 + random.nextInt(1200); // long enough for some acceptances on a busy machine
                    what = "killed " + delay + " ms into its work";
                }
                assertFalse(child.waitFor(delay, TimeUnit.MILLISECONDS), () -> "the worker ended before it was killed: " + read(log));
                child.destroyForcibly();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the killed worker is gone");
            }
            try (Database after = Database.open(url)) {
                assertEquals(List.of(), Invariants.violations(after), () -> "after run " + (last ? "to the end" : "killed") + ", seed " + seed + ": " + read(log));
                PlatformStore check = new PlatformStore(after);
                long accepted = check.rounds().current().isEmpty() ? 0 : check.rounds().shards().stream().filter(s -> s.state() == ShardState.ACCEPTED).count();
                partial |= !last && accepted > 0 && accepted < CrashWorker.SHARDS;
                System.out.printf("crash test (%s) run %d: %s; %d of %d shards accepted, consistent%n",
                        after.vendor(), run, what, accepted, CrashWorker.SHARDS);
            }
        }
        assertTrue(partial, "some kill must leave the work half done (seed " + seed + ")");
        db = Database.open(url);
        store = new PlatformStore(db);
        List<Shard> shards = store.rounds().shards();
        assertEquals(CrashWorker.SHARDS, shards.size());
        assertTrue(shards.stream().allMatch(s -> s.state() == ShardState.ACCEPTED), shards.toString());
        long accepted = store.uploads().all().stream().filter(Upload::accepted).count();
        assertEquals(CrashWorker.SHARDS, accepted, "each shard accepted exactly once");
        assertEquals(CrashWorker.PARTICIPANTS, store.participants().all().size());
    }

    private static String javaCommand() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String testClassPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no output)";
        } catch (java.io.IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }
}
