package ai.coopt.platform.db;

import ai.coopt.platform.auth.Ed25519Keys;
import ai.coopt.platform.auth.Sha256;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * The child process of the crash test: opens the database, creates the round and three participants when
 * they are missing, then has three threads lease, work on (sleep), renew, abandon and upload shards (and record
 * refusals and signatures) until every shard is accepted or its step budget is spent; it prints "ready" when
 * the work begins. The parent kills it with SIGKILL
 * at a random moment and checks the database; a final run is left to finish.
 *
 * <p>Arguments: database URL, seed, steps per thread.
 */
public final class CrashWorker {

    static final int SHARDS = 150;
    static final int PARTICIPANTS = 3;
    static final long LEASE_MILLIS = 200;

    private CrashWorker() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        long seed = Long.parseLong(args[1]);
        int steps = Integer.parseInt(args[2]);
        try (Database db = Database.open(url)) {
            PlatformStore store = new PlatformStore(db);
            List<NewShard> shards = new ArrayList<>();
            for (int i = 0; i < SHARDS; i++) {
                shards.add(new NewShard(i, 100 + i, Sha256.hex("shard " + i)));
            }
            store.rounds().init("{\"test\":\"crash\"}", shards, System.currentTimeMillis());
            Set<String> enrolled = store.participants().all().stream().map(Participant::name).collect(Collectors.toSet());
            for (int p = 0; p < PARTICIPANTS; p++) {
                String name = "worker-" + p;
                if (!enrolled.contains(name)) {
                    String token = store.participants().createInvite(name, System.currentTimeMillis(), 60_000);
                    Redemption r = store.participants().redeemInvite(token, Ed25519Keys.base64(rawKey(p)), System.currentTimeMillis());
                    if (!(r instanceof Redemption.Enrolled)) {
                        throw new IllegalStateException("enrolment refused: " + r);
                    }
                }
            }
            System.out.println("ready");
            System.out.flush();
            AtomicLong uploads = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < PARTICIPANTS; p++) {
                String id = Ed25519Keys.participantId(rawKey(p));
                SplittableRandom random = new SplittableRandom(seed * 31 + p);
                Thread t = new Thread(() -> participate(store, id, random, steps, uploads), "participant-" + p);
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            // every shard in and every audit answered: the referee would now start fusion, and the round is done
            boolean settled = store.rounds().shards().stream().allMatch(s -> s.state() == ShardState.ACCEPTED)
                    && store.audits().all().stream().noneMatch(a -> a.state() == AuditState.PENDING);
            if (settled) {
                store.fusion().set(FusionState.RUNNING, "crash-worker", false, null, System.currentTimeMillis());
            }
            System.out.println("finished " + uploads.get() + " uploads; done=" + (store.leases().lease(
                    Ed25519Keys.participantId(rawKey(0)), System.currentTimeMillis(), LEASE_MILLIS, null) instanceof LeaseResult.Done));
        }
    }

    /** A stand-in raw public key per participant (the store does not check the curve point). */
    static byte[] rawKey(int participant) {
        return Sha256.digest(("crash worker key " + participant).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static void participate(PlatformStore store, String id, SplittableRandom random, int steps, AtomicLong uploads) {
        for (int step = 0; step < steps; step++) {
            // audits left pending by a killed run are answered first, as a restarted participant does
            store.audits().pending(id).forEach(a -> store.audits().finish(a.id(), true, null, System.currentTimeMillis()));
            long now = System.currentTimeMillis();
            LeaseResult lease = store.leases().lease(id, now, LEASE_MILLIS, random.nextInt(4) == 0 ? random.nextInt(SHARDS) : null);
            if (lease instanceof LeaseResult.Done) {
                return;
            }
            if (lease instanceof LeaseResult.Wait w) {
                if (store.rounds().shards().stream().allMatch(s -> s.state() == ShardState.ACCEPTED)
                        && store.audits().pending(id).isEmpty()) {
                    return; // every shard is in: the platform's referee (not modelled here) takes it from there
                }
                sleep(Math.max(1, Math.min(20, w.until() - now)));
                continue;
            }
            LeaseResult.Leased leased = (LeaseResult.Leased) lease;
            sleep(30 + random.nextInt(60)); // the prior runs on the shard
            int action = random.nextInt(10);
            if (action == 0) {
                sleep(LEASE_MILLIS + 10); // stalls past its lease: another participant may take the shard over
                continue;
            }
            if (action == 1) {
                store.leases().renew(id, leased.shard(), leased.leaseId(), System.currentTimeMillis(), LEASE_MILLIS);
            }
            if (action == 2) {
                store.uploads().recordRefused(id, leased.shard(), "values not finite", 1234, System.currentTimeMillis());
                continue;
            }
            String sha = Sha256.hex(id + " shard " + leased.shard() + " step " + step);
            String leaseId = action == 3 ? "not-the-lease" : leased.leaseId();
            long at = System.currentTimeMillis();
            UploadResult result = store.uploads().acceptShard(id, leased.shard(), leaseId, "uploads/" + sha + ".safetensors", sha,
                    4096, 100, 8, at, new long[] {leased.shard(), 1000 + step}, at + 60_000);
            if (result instanceof UploadResult.Accepted accepted) {
                uploads.incrementAndGet();
                // the participant answers its audit (the upload and its audit were committed together)
                store.audits().pending(id).stream().filter(a -> a.uploadId() == accepted.uploadId()).findFirst()
                        .ifPresent(a -> store.audits().finish(a.id(), true, null, System.currentTimeMillis()));
                // the participant did not hear back in time and retries: must be idempotent
                if (random.nextInt(3) == 0) {
                    store.uploads().acceptShard(id, leased.shard(), leased.leaseId(), "uploads/" + sha + ".safetensors", sha,
                            4096, 100, 8, System.currentTimeMillis());
                }
            }
            String request = Sha256.hex(id + " request " + step + " " + random.nextLong());
            store.signatures().record(id, request, System.currentTimeMillis(), System.currentTimeMillis(), 60_000);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
