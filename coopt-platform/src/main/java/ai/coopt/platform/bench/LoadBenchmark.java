package ai.coopt.platform.bench;

import ai.coopt.UserException;
import ai.coopt.collab.PriorReport;
import ai.coopt.platform.Uploads;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.target.Matrix;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Many simulated participants against a running platform: each enrols, sends outputs on S, then leases and uploads
 * shards as fast as it can with precomputed outputs (random values of the right shape: the platform checks shape, ids
 * and finiteness, not meaning), until the round is done. Measures the latency of every lease and upload and checks
 * the end state: every shard accepted exactly once, by the participant that held its lease.
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
     * @param acceptedOnce whether every shard was accepted exactly once and by a participant of this run
     */
    public record Result(int participants, int shards, double seconds, Latency lease, Latency upload, Latency enroll,
                         int waits, int refusals, boolean acceptedOnce) {}

    private LoadBenchmark() {}

    /**
     * @param store the platform's store (for the invites), opened on the same database the server uses
     * @param work where the participants' keys and upload files go
     */
    public static Result run(String url, PlatformStore store, int participants, int dim, Path work, Consumer<String> log)
            throws Exception {
        PlatformClient reader = new PlatformClient(url, null, null, Duration.ofSeconds(30), log);
        JsonNode round = reader.get("/v1/round");
        long[] shared = PlatformClient.longs(round.path("shared_ids"));
        int shards = round.path("shards").asInt();
        Files.createDirectories(work);
        List<Double> leases = Collections.synchronizedList(new ArrayList<>());
        List<Double> uploads = Collections.synchronizedList(new ArrayList<>());
        List<Double> enrolments = Collections.synchronizedList(new ArrayList<>());
        Map<Integer, String> acceptedBy = new ConcurrentHashMap<>();
        AtomicInteger waits = new AtomicInteger();
        AtomicInteger refusals = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(participants);
        long t0 = System.nanoTime();
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int i = 0; i < participants; i++) {
                int k = i;
                runs.add(pool.submit(() -> {
                    participant(url, store, k, dim, shared, work, leases, uploads, enrolments, acceptedBy, waits, refusals,
                            log);
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
        JsonNode status = reader.get("/v1/status");
        int accepted = 0;
        boolean once = status.path("shards_by_state").path("accepted").asInt() == shards && acceptedBy.size() == shards;
        for (JsonNode u : status.path("uploads")) {
            if (u.path("status").asText().equals("accepted") && !u.path("shard").isNull()) {
                accepted++;
                once &= u.path("participant").asText().equals(acceptedBy.get(u.path("shard").asInt()));
            }
        }
        once &= accepted == shards;
        return new Result(participants, shards, seconds, Latency.of(leases), Latency.of(uploads), Latency.of(enrolments),
                waits.get(), refusals.get(), once);
    }

    private static void participant(String url, PlatformStore store, int k, int dim, long[] shared, Path work,
                                    List<Double> leases, List<Double> uploads, List<Double> enrolments,
                                    Map<Integer, String> acceptedBy, AtomicInteger waits, AtomicInteger refusals,
                                    Consumer<String> log) {
        String name = "load-" + k;
        String invite = store.createInvite(name, System.currentTimeMillis(), 3_600_000);
        KeyFile keys = KeyFile.create(work.resolve(name + ".key"));
        PlatformClient client = new PlatformClient(url, null, keys, Duration.ofMinutes(2), log);
        long t = System.nanoTime();
        client.post("/v1/enroll", Map.of("invite", invite, "public_key", keys.publicKeyBase64()), keys);
        enrolments.add((System.nanoTime() - t) / 1e6);
        SplittableRandom random = new SplittableRandom(k);
        Path sharedFile = work.resolve(name + "-shared.safetensors");
        Uploads.write(sharedFile, shared, new Matrix(gaussian(shared.length * dim, random), shared.length, dim),
                Uploads.priorMetadata(new PriorReport("random:convnet-s:" + k, "random", "0".repeat(64),
                        new ManifestProvenance.Input(1, 28, 28, List.of(0.5), List.of(0.25), "none"), dim, -1.0,
                        shared.length)));
        client.upload("/v1/shared", sharedFile);
        while (true) {
            t = System.nanoTime();
            JsonNode lease = client.post("/v1/lease", Map.of());
            leases.add((System.nanoTime() - t) / 1e6);
            String state = lease.path("state").asText();
            if (state.equals("done")) {
                return;
            }
            if (state.equals("wait")) {
                waits.incrementAndGet();
                sleep(Math.min(1000, lease.path("wait_ms").asLong(200)));
                continue;
            }
            int shard = lease.path("shard").asInt();
            long[] ids = PlatformClient.longs(lease.path("ids"));
            Path file = work.resolve(name + "-shard.safetensors");
            Uploads.write(file, ids, new Matrix(gaussian(ids.length * dim, random), ids.length, dim), Map.of());
            t = System.nanoTime();
            try {
                client.upload("/v1/shards/" + shard + "/upload?token=" + lease.path("token").asText(), file);
                uploads.add((System.nanoTime() - t) / 1e6);
                if (acceptedBy.putIfAbsent(shard, keys.participantId()) != null) {
                    throw new IllegalStateException("shard " + shard + " accepted twice");
                }
            } catch (PlatformClient.Refusal e) {
                refusals.incrementAndGet();
                log.accept(name + ": shard " + shard + " refused: " + e.getMessage());
            }
        }
    }

    private static float[] gaussian(int n, SplittableRandom r) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
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
