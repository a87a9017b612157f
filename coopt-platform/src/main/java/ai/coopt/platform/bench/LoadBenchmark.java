package ai.coopt.platform.bench;

import ai.coopt.UserException;
import ai.coopt.collab.PriorReport;
import ai.coopt.platform.Uploads;
import ai.coopt.platform.api.AuditView;
import ai.coopt.platform.api.Audits;
import ai.coopt.platform.api.LeaseView;
import ai.coopt.platform.api.RoundView;
import ai.coopt.platform.api.Status;
import ai.coopt.platform.api.Wire;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.PackedImages;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Many simulated participants against a running platform (one or several serve processes of one round): each
 * enrols, sends outputs on S, then leases and uploads shards as fast as it can with precomputed outputs until the
 * round is done, sending its requests to the platform's servers in turn. The outputs are plausible ones
 * ({@link SimulatedOutputs}: a shared latent per sample seen through each participant's own linear map, plus a
 * little noise), so a platform that checks outputs for meaning treats them as honest. Measures the latency of
 * every lease and upload and checks the end state: every shard accepted exactly once, by the participant that held
 * its lease, and no shard ever granted to two participants.
 */
public final class LoadBenchmark {
    /** Latency percentiles in milliseconds. */
    public record Latency(int count, double p50, double p90, double p99, double max) {
        static Latency of(List<Double> ms) {
            List<Double> s = new ArrayList<>(ms);
            Collections.sort(s);
            if (s.isEmpty()) {
                return new Latency(0, 0, 0, 0, 0);
            }
            return new Latency(s.size(), at(s, 0.5), at(s, 0.9), at(s, 0.99), s.get(s.size() - 1));
        }

        private static double at(List<Double> sorted, double q) {
            return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
        }
    }

    /**
     * What was measured.
     *
     * @param servers      how many platform URLs the participants spread their requests over
     * @param doubleLeases grants of a shard to a participant while another one had been granted it (a lease that
     *                     expired may be re-granted legitimately, but no lease expires in a run this short)
     * @param acceptedOnce whether every shard was accepted exactly once and by a participant of this run
     */
    public record Result(int participants, int shards, int servers, double seconds, Latency lease, Latency upload,
                         Latency enroll, Latency audit, int waits, int refusals, int doubleLeases, boolean acceptedOnce,
                         int auditsPassed, int quarantined) {}

    private LoadBenchmark() {}

    /** {@link #run(List, PlatformStore, String, int, int, Path, Consumer)} against one server. */
    public static Result run(String url, PlatformStore store, String operatorToken, int participants, int dim, Path work,
                             Consumer<String> log) throws Exception {
        return run(List.of(url), store, operatorToken, participants, dim, work, log);
    }

    /**
     * @param urls  the platform's servers (one round); participant k sends its i-th request to
     *              {@code urls[(k + i) % urls.size()]}, so consecutive requests of one participant change server
     * @param store the platform's store (for the invites), opened on the same database the servers use
     * @param operatorToken the operator's token (the round and the status are read as the operator)
     * @param dim   the width of each participant's outputs (at least {@link SimulatedOutputs#LATENT})
     * @param work  where the participants' keys and upload files go
     */
    public static Result run(List<String> urls, PlatformStore store, String operatorToken, int participants, int dim,
                             Path work, Consumer<String> log) throws Exception {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("no platform URL");
        }
        if (dim < SimulatedOutputs.LATENT) {
            throw new UserException("--dim must be at least " + SimulatedOutputs.LATENT + " (the simulated outputs' latent"
                    + " width, so that each participant's outputs predict the others'), not " + dim);
        }
        PlatformClient reader = new PlatformClient(urls.get(0), null, null, operatorToken, Duration.ofSeconds(30), log);
        RoundView round = Wire.read(reader.get("/v1/round"), RoundView.class, "GET /v1/round");
        long[] shared = round.sharedIds();
        String sharedSha256 = round.sharedSha256();
        int shards = round.shards();
        Files.createDirectories(work);
        Tally tally = new Tally();
        ExecutorService pool = Executors.newFixedThreadPool(participants);
        long t0 = System.nanoTime();
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int i = 0; i < participants; i++) {
                int k = i;
                runs.add(pool.submit(() -> {
                    participant(urls, store, k, dim, shared, sharedSha256, work, tally, log);
                    return null;
                }));
            }
            for (Future<?> f : runs) {
                f.get(30, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Status status = Wire.read(reader.get("/v1/status"), Status.class, "GET /v1/status");
        int accepted = 0;
        boolean once = status.shardsByState().getOrDefault("accepted", 0) == shards && tally.acceptedBy.size() == shards;
        for (Status.UploadView u : status.uploads()) {
            if (u.status().equals("accepted") && u.shard() != null) {
                accepted++;
                once &= u.participant().equals(tally.acceptedBy.get(u.shard()));
            }
        }
        once &= accepted == shards;
        int passed = (int) status.audits().stream().filter(a -> a.state().equals("passed")).count();
        int quarantined = (int) status.participants().stream().filter(p -> p.quarantined() != null).count();
        return new Result(participants, shards, urls.size(), seconds, Latency.of(tally.leases), Latency.of(tally.uploads),
                Latency.of(tally.enrolments), Latency.of(tally.audits), tally.waits.get(), tally.refusals.get(),
                tally.doubleLeases.get(), once, passed, quarantined);
    }

    /** What the participants saw, gathered from all their threads. */
    private static final class Tally {
        final List<Double> leases = Collections.synchronizedList(new ArrayList<>());
        final List<Double> uploads = Collections.synchronizedList(new ArrayList<>());
        final List<Double> enrolments = Collections.synchronizedList(new ArrayList<>());
        final List<Double> audits = Collections.synchronizedList(new ArrayList<>());
        /** Shard → the participant it was first granted to. */
        final Map<Integer, String> grantedTo = new ConcurrentHashMap<>();
        final Map<Integer, String> acceptedBy = new ConcurrentHashMap<>();
        final AtomicInteger waits = new AtomicInteger();
        final AtomicInteger refusals = new AtomicInteger();
        final AtomicInteger doubleLeases = new AtomicInteger();
    }

    private static void participant(List<String> urls, PlatformStore store, int k, int dim, long[] shared,
                                    String sharedSha256, Path work, Tally tally, Consumer<String> log) {
        String name = "load-" + k;
        String invite = store.participants().createInvite(name, System.currentTimeMillis(), 3_600_000);
        KeyFile keys = KeyFile.create(work.resolve(name + ".key"));
        InTurn next = new InTurn(urls.stream().map(u -> new PlatformClient(u, null, keys, Duration.ofMinutes(2), log))
                .toList(), k);
        long t = System.nanoTime();
        next.client().post("/v1/enroll", Map.of("invite", invite, "public_key", keys.publicKeyBase64()), keys);
        tally.enrolments.add((System.nanoTime() - t) / 1e6);
        SimulatedOutputs outputs = new SimulatedOutputs(k, dim);
        Path sharedImages = work.resolve(name + "-shared.images.safetensors");
        next.client().download("/v1/shared/images", sharedImages, sharedSha256, true);
        Path sharedFile = work.resolve(name + "-shared.safetensors");
        Uploads.write(sharedFile, shared, outputs.rows(PackedImages.openFile(sharedImages, sharedSha256, shared,
                        "the shared subset")),
                Uploads.priorMetadata(new PriorReport("simulated:latent-" + SimulatedOutputs.LATENT + ":" + k, "simulated",
                        "0".repeat(64), new ManifestProvenance.Input(1, 28, 28, List.of(0.5), List.of(0.25), "none"), dim,
                        -1.0, shared.length)));
        next.client().upload("/v1/shared", sharedFile);
        while (true) {
            t = System.nanoTime();
            LeaseView lease = Wire.read(next.client().post("/v1/lease", Map.of()), LeaseView.class, "POST /v1/lease");
            tally.leases.add((System.nanoTime() - t) / 1e6);
            String state = lease.state();
            if (state.equals("done")) {
                return;
            }
            if (state.equals("wait")) {
                tally.waits.incrementAndGet();
                answerAudits(next, name, outputs, work, tally);
                sleep(Math.min(1000, lease.waitMs() == null ? 200 : lease.waitMs()));
                continue;
            }
            int shard = lease.shard();
            String first = tally.grantedTo.putIfAbsent(shard, keys.participantId());
            if (first != null && !first.equals(keys.participantId())) {
                tally.doubleLeases.incrementAndGet();
                log.accept(name + ": shard " + shard + " granted to it after " + first);
            }
            long[] ids = lease.ids();
            Path images = work.resolve(name + "-shard.images.safetensors");
            String sha = lease.sha256();
            next.client().download("/v1/shards/" + shard + "/images", images, sha, true);
            Path file = work.resolve(name + "-shard.safetensors");
            Uploads.write(file, ids, outputs.rows(PackedImages.openFile(images, sha, ids, "shard " + shard)), Map.of());
            t = System.nanoTime();
            try {
                next.client().upload("/v1/shards/" + shard + "/upload?token=" + lease.token(), file);
                tally.uploads.add((System.nanoTime() - t) / 1e6);
                if (tally.acceptedBy.putIfAbsent(shard, keys.participantId()) != null) {
                    throw new IllegalStateException("shard " + shard + " accepted twice");
                }
            } catch (PlatformClient.Refusal e) {
                tally.refusals.incrementAndGet();
                log.accept(name + ": shard " + shard + " refused: " + e.getMessage());
            }
            answerAudits(next, name, outputs, work, tally);
        }
    }

    /** Answers this participant's pending audits: their images downloaded, its outputs on them uploaded. */
    private static void answerAudits(InTurn next, String name, SimulatedOutputs outputs, Path work, Tally tally) {
        for (AuditView audit : Wire.read(next.client().post("/v1/audits", Map.of()), Audits.class, "POST /v1/audits")
                .audits()) {
            long id = audit.id();
            long[] positions = new long[audit.rows()];
            Arrays.setAll(positions, i -> i);
            String sha = audit.sha256();
            long t = System.nanoTime();
            Path images = work.resolve(name + "-audit.images.safetensors");
            next.client().download("/v1/audits/" + id + "/images", images, sha, true);
            Path answer = work.resolve(name + "-audit.safetensors");
            Uploads.write(answer, positions, outputs.rows(PackedImages.openFile(images, sha, positions, "audit " + id)),
                    Map.of());
            next.client().upload("/v1/audits/" + id, answer);
            tally.audits.add((System.nanoTime() - t) / 1e6);
        }
    }

    /** One participant's clients of the servers, taken in turn: request i goes to server (start + i) mod count. */
    private static final class InTurn {
        private final List<PlatformClient> clients;
        private int request;

        InTurn(List<PlatformClient> clients, int start) {
            this.clients = clients;
            this.request = start;
        }

        PlatformClient client() {
            return clients.get(request++ % clients.size());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("interrupted");
        }
    }
}
