package ai.coopt.platform;

import ai.coopt.collab.Audit;
import ai.coopt.collab.Lease;
import ai.coopt.collab.Participant;
import ai.coopt.collab.ParticipantLoop;
import ai.coopt.collab.Platform;
import ai.coopt.collab.PriorReport;
import ai.coopt.collab.RoundInfo;
import ai.coopt.collab.ShardOutputs;
import ai.coopt.collab.SharedOutputs;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.optimize.Matrix;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.client.RemotePlatform;
import ai.coopt.platform.db.AuditRecord;
import ai.coopt.platform.db.AuditState;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.db.Upload;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.store.Json;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12's adversarial suite: participants that poison what they upload, and requests that try to get around the
 * audit, against a real platform on loopback. Participants are simulated by linear "priors" of the pixels (a fixed
 * random projection per participant: deterministic like a prior in eval mode, and honest ones predict each other as
 * real priors of the same images do). Nothing an adversary sent may reach the fused dataset, every one of them must
 * be refused or quarantined with a reason naming the cause, and no honest participant may be quarantined.
 */
class AdversarialSuiteTest {
    /** Shards of about 27 rows, and more of them than participants: every adversary gets one to be caught with. */
    private static final int N = 720;
    private static final int SHARDS = 24;
    private static final int DIM = 12;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** A prior that is a fixed random linear map of the pixels (scaled to [0, 1]), seeded. */
    static float[] linear(ImageSet images, long seed, int dim) {
        SplittableRandom r = new SplittableRandom(seed);
        int size = images.imageSize();
        float[] w = new float[size * dim];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() / Math.sqrt(size));
        }
        float[] out = new float[images.count() * dim];
        byte[] pixels = new byte[size];
        for (int i = 0; i < images.count(); i++) {
            images.readImage(i, pixels, 0);
            for (int j = 0; j < dim; j++) {
                double v = 0;
                for (int p = 0; p < size; p++) {
                    v += (pixels[p] & 0xff) / 255.0 * w[p * dim + j];
                }
                out[i * dim + j] = (float) v;
            }
        }
        return out;
    }

    /** A participant: what it sends on S, on a shard, and as an audit answer; honest by default. */
    static class Simulated implements Participant {
        final String id;
        final long seed;

        Simulated(String id, long seed) {
            this.id = id;
            this.seed = seed;
        }

        float[] honest(ImageSet images) {
            return linear(images, seed, DIM);
        }

        float[] onShared(ImageSet images) {
            return honest(images);
        }

        float[] onShard(ImageSet images) {
            return honest(images);
        }

        float[] onAudit(ImageSet images) {
            return honest(images);
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public SharedOutputs embedShared(ImageSet shared) {
            PriorReport p = new PriorReport("linear:" + seed, "random", "0".repeat(64),
                    new ManifestProvenance.Input(1, 28, 28, List.of(0.0), List.of(1.0), "none"), DIM, -1, shared.count());
            return new SharedOutputs(id, p, onShared(shared), 0, 0);
        }

        @Override
        public ShardOutputs embedShard(int shard, ImageSet images, long[] ids) {
            if (id.startsWith("honest")) {
                try {
                    Thread.sleep(150); // the honest take their time, so that every adversary gets a shard too
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return new ShardOutputs(id, shard, ids, new Matrix(onShard(images), images.count(), DIM), 0);
        }

        @Override
        public float[] embedImages(ImageSet images) {
            return onAudit(images);
        }

        @Override
        public void close() {}
    }

    /** Lies about its shard but answers audits with the rows it uploaded, matched to the audit's images by pixels. */
    static class ConsistentLiar extends Simulated {
        private final Function<float[], float[]> poison;
        private final Map<String, float[]> told = new ConcurrentHashMap<>();

        ConsistentLiar(String id, long seed, Function<float[], float[]> poison) {
            super(id, seed);
            this.poison = poison;
        }

        @Override
        float[] onShard(ImageSet images) {
            float[] rows = poison.apply(honest(images));
            remember(images, rows);
            return rows;
        }

        @Override
        float[] onShared(ImageSet images) {
            float[] rows = honest(images);
            remember(images, rows);
            return rows;
        }

        private void remember(ImageSet images, float[] rows) {
            for (int i = 0; i < images.count(); i++) {
                told.putIfAbsent(Arrays.toString(images.image(i)), Arrays.copyOfRange(rows, i * DIM, (i + 1) * DIM));
            }
        }

        @Override
        float[] onAudit(ImageSet images) {
            float[] out = new float[images.count() * DIM];
            for (int i = 0; i < images.count(); i++) {
                System.arraycopy(told.get(Arrays.toString(images.image(i))), 0, out, i * DIM, DIM);
            }
            return out;
        }
    }

    /** Leaves every audit unanswered. */
    static final class Silent implements Platform {
        private final Platform inner;

        Silent(Platform inner) {
            this.inner = inner;
        }

        @Override public RoundInfo round() { return inner.round(); }
        @Override public ImageSet shared() { return inner.shared(); }
        @Override public boolean hasShared(String p) { return inner.hasShared(p); }
        @Override public void submitShared(SharedOutputs o) { inner.submitShared(o); }
        @Override public Lease lease(String p) { return inner.lease(p); }
        @Override public Lease.Granted renew(String p, Lease.Granted l) { return inner.renew(p, l); }
        @Override public ImageSet shard(Lease.Granted l) { return inner.shard(l); }
        @Override public void upload(Lease.Granted l, ShardOutputs o) { inner.upload(l, o); }
        @Override public List<Audit> audits(String p) { return List.of(); }
        @Override public ImageSet auditImages(String p, Audit a) { throw new IllegalStateException(); }
        @Override public void answerAudit(String p, Audit a, float[] o, int d) { throw new IllegalStateException(); }
    }

    private static float[] scaled(float[] rows, float by, float shift) {
        float[] out = rows.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = out[i] * by + shift;
        }
        return out;
    }

    /** Rows in another order: every row is some image's, just not this one's. */
    private static float[] shuffled(float[] rows) {
        int n = rows.length / DIM;
        float[] out = new float[rows.length];
        for (int i = 0; i < n; i++) {
            System.arraycopy(rows, ((i + 1) % n) * DIM, out, i * DIM, DIM);
        }
        return out;
    }

    /** One row in twenty replaced by noise of the same scale. */
    private static float[] poisonedTwentieth(float[] rows) {
        float[] out = rows.clone();
        float[] noise = TestPlatform.gaussian(rows.length, 77);
        for (int i = 0; i < rows.length / DIM; i += 20) {
            for (int j = 0; j < DIM; j++) {
                out[i * DIM + j] = noise[i * DIM + j] * 0.3f;
            }
        }
        return out;
    }

    /** An adversary, what it does, and the words its quarantine reason must contain. */
    private record Adversary(Simulated participant, boolean silent, String expected) {}

    @Test
    void poisonedParticipantsAreQuarantinedAndNothingOfThemIsFused(@TempDir Path tmp) throws Exception {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", N);
        PlatformConfig config = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", N, null, N,
                images.fingerprint(), 0, SHARDS, null, 60, 3, 120, "ridge", 0, Instant.now().toString(), "test",
                List.of("t")).withAudits(new PlatformConfig.Audits(1000, 16, 20));
        List<Simulated> honest = List.of(new Simulated("honest-1", 1), new Simulated("honest-2", 2),
                new Simulated("honest-3", 3), new Simulated("honest-4", 4));
        List<Adversary> adversaries = List.of(
                new Adversary(new Simulated("noise", 10) {
                    @Override float[] honest(ImageSet im) { return TestPlatform.gaussian(im.count() * DIM, System.nanoTime()); }
                }, false, "predicted by|rows differ"),
                new Adversary(new Simulated("constant", 11) {
                    @Override float[] honest(ImageSet im) { return new float[im.count() * DIM]; }
                }, false, "same for every image"),
                // copies honest-1's outputs on S but uploads noise for its shards: its group gives it no vote, and its
                // shards disagree with the outputs on S it claims
                new Adversary(new ConsistentLiar("copier", 1, rows -> TestPlatform.gaussian(rows.length, 4)), false,
                        "sampling allows|rows differ"),
                new Adversary(new Simulated("poisoned-s", 12) {
                    @Override float[] onShared(ImageSet im) { return TestPlatform.gaussian(im.count() * DIM, 5); }
                }, false, "predicted by|rows differ"),
                new Adversary(new Simulated("shuffled-rows", 13) {
                    @Override float[] onShard(ImageSet im) { return shuffled(honest(im)); }
                }, false, "rows differ"),
                new Adversary(new Simulated("constant-rows", 14) {
                    @Override float[] onShard(ImageSet im) { return new float[im.count() * DIM]; }
                }, false, "rows differ"),
                new Adversary(new Simulated("scaled-rows", 15) {
                    @Override float[] onShard(ImageSet im) { return scaled(honest(im), 3, 0); }
                }, false, "rows differ"),
                new Adversary(new Simulated("others-rows", 16) {
                    @Override float[] onShard(ImageSet im) { return linear(im, 2, DIM); }
                }, false, "rows differ"),
                new Adversary(new Simulated("poisoned-5pc", 17) {
                    @Override float[] onShard(ImageSet im) { return poisonedTwentieth(honest(im)); }
                }, false, "rows differ"),
                new Adversary(new Simulated("audit-liar", 18) {
                    @Override float[] onAudit(ImageSet im) { return scaled(honest(im), 1.01f, 0); }
                }, false, "rows differ"),
                new Adversary(new Simulated("silent", 19), true, "not answered by its deadline"),
                // caught by the shard's statistics against its own outputs on S, or when an audited image lies in
                // both S and the shard and its two uploaded rows disagree
                new Adversary(new ConsistentLiar("consistent-scaled", 20, rows -> scaled(rows, 3, 0)), false,
                        "vary|rows differ"),
                new Adversary(new ConsistentLiar("consistent-shifted", 21, rows -> scaled(rows, 1, 2)), false,
                        "mean output|rows differ"),
                new Adversary(new ConsistentLiar("consistent-noise", 22, rows -> TestPlatform.gaussian(rows.length, 3)), false,
                        "sampling allows|rows differ"));

        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, config, images, null)) {
            PlatformStore store = running.store();
            List<Simulated> everyone = new ArrayList<>(honest);
            adversaries.forEach(a -> everyone.add(a.participant()));
            Map<String, Throwable> ended = new ConcurrentHashMap<>();
            Map<String, String> idOf = runToFusion(running, tmp, everyone,
                    p -> adversaries.stream().anyMatch(a -> a.participant() == p && a.silent()), ended);

            // every adversary is quarantined for its own reason; no honest participant is
            for (Simulated h : honest) {
                var row = store.participants().get(idOf.get(h.id())).orElseThrow();
                assertFalse(row.quarantined(), h.id() + " was quarantined: " + row.quarantineReason());
                assertFalse(ended.containsKey(h.id()), h.id() + " ended with " + ended.get(h.id()));
            }
            for (Adversary a : adversaries) {
                var row = store.participants().get(idOf.get(a.participant().id())).orElseThrow();
                assertTrue(row.quarantined(), a.participant().id() + " was not quarantined");
                assertTrue(Arrays.stream(a.expected().split("\\|")).anyMatch(row.quarantineReason()::contains),
                        a.participant().id() + ": '" + row.quarantineReason() + "' should mention '" + a.expected() + "'");
            }
            // the fused dataset is made of the honest participants' rows only, every image once
            OptimizedDataset fused = OptimizedDataset.read(tmp.resolve("platform").resolve("fused"));
            assertEquals(N, fused.count());
            List<String> honestIds = honest.stream().map(h -> idOf.get(h.id())).toList();
            for (Upload u : store.uploads().all()) {
                if (u.accepted() && u.shard() != null) {
                    assertTrue(honestIds.contains(u.participantId()), "shard " + u.shard() + " accepted from "
                            + u.participantId());
                }
            }
            assertEquals(honest.size(), fused.provenance().participants().size(), fused.provenance().participants().toString());
            for (AuditRecord audit : store.audits().all()) {
                if (honestIds.contains(audit.participantId())) {
                    assertEquals(AuditState.PASSED, audit.state(), audit.toString());
                }
            }
        }
    }

    /**
     * Enrols every participant, runs it (silent ones never answer an audit) until it leaves, and waits for fusion to
     * end DONE; returns each one's platform id by name. A participant named "copier" starts once honest-1 has sent its
     * outputs on S, so that the copy comes second.
     */
    static Map<String, String> runToFusion(TestPlatform running, Path tmp, List<Simulated> everyone,
                                                   java.util.function.Predicate<Simulated> silentOnes,
                                                   Map<String, Throwable> ended) throws Exception {
        PlatformStore store = running.store();
        String url = running.url();
        Map<String, String> idOf = new LinkedHashMap<>();
        List<Thread> threads = new ArrayList<>();
        for (Simulated p : everyone) {
            if (p.id().equals("copier")) {
                long until = System.currentTimeMillis() + 60_000;
                while (store.uploads().sharedOutputs().stream().noneMatch(o -> o.participantId().equals(idOf.get("honest-1")))) {
                    assertTrue(System.currentTimeMillis() < until, "honest-1 never sent its outputs on S");
                    Thread.sleep(20);
                }
            }
            boolean silent = silentOnes.test(p);
            TestPlatform.Enrolled enrolled = running.enroll(p.id(), tmp);
            idOf.put(p.id(), enrolled.id());
            Platform platform = enrolled.platform();
            Participant as = new Renamed(p, enrolled.id());
            Thread t = new Thread(() -> {
                try {
                    ParticipantLoop.run(silent ? new Silent(platform) : platform, as, 0, Thread::sleep);
                } catch (Throwable e) {
                    ended.put(p.id(), e);
                }
            }, "participant-" + p.id());
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(180_000);
            assertFalse(t.isAlive(), t.getName() + " did not finish");
        }
        long deadline = System.currentTimeMillis() + 120_000;
        while (store.fusion().state().state() == FusionState.RUNNING || store.fusion().state().state() == FusionState.WAITING) {
            assertTrue(System.currentTimeMillis() < deadline, "fusion did not finish: " + store.fusion().state());
            Thread.sleep(200);
        }
        assertEquals(FusionState.DONE, store.fusion().state().state(), store.fusion().state().toString());
        return idOf;
    }

    /** Gaussian noise, the same for the same image wherever it is asked (on S, in a shard, in an audit). */
    static float[] noisePerImage(ImageSet images) {
        float[] out = new float[images.count() * DIM];
        for (int i = 0; i < images.count(); i++) {
            System.arraycopy(TestPlatform.gaussian(DIM, Arrays.hashCode(images.image(i))), 0, out, i * DIM, DIM);
        }
        return out;
    }

    /**
     * Issue 23: two participants with the same public prior and one that sends Gaussian noise (consistently, so its
     * audits pass). Nobody is quarantined (two independent priors cannot outvote each other), both of the prior's
     * participants contribute, the noise is not the reference, and status and manifest say the reference is unverified.
     */
    @Test
    void noiseBesideTwoParticipantsOfOnePriorIsNotTheReference(@TempDir Path tmp) throws Exception {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", 300);
        PlatformConfig config = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 300, null, 300,
                images.fingerprint(), 0, 6, null, 60, 3, 120, "ridge", 0, Instant.now().toString(), "test",
                List.of("t")).withAudits(new PlatformConfig.Audits(1000, 16, 20));
        List<Simulated> everyone = List.of(new Simulated("honest-1", 1), new Simulated("noise", 9) {
            @Override float[] honest(ImageSet im) { return noisePerImage(im); }
        }, new Simulated("honest-1-twin", 1));
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, config, images, null)) {
            Map<String, Throwable> ended = new ConcurrentHashMap<>();
            Map<String, String> idOf = runToFusion(running, tmp, everyone, p -> false, ended);
            assertTrue(ended.isEmpty(), ended.toString());
            for (Simulated p : everyone) {
                var row = running.store().participants().get(idOf.get(p.id())).orElseThrow();
                assertFalse(row.quarantined(), p.id() + " was quarantined: " + row.quarantineReason());
            }
            JsonNode status = Json.mapper().valueToTree(running.service().status("test"));
            JsonNode reference = null;
            for (JsonNode r : status.get("uniformity")) {
                if (r.get("reference").asBoolean()) {
                    reference = r;
                }
            }
            assertTrue(reference != null, status.get("uniformity").toString());
            List<String> pair = List.of(idOf.get("honest-1"), idOf.get("honest-1-twin"));
            String ref = reference.get("participant").asText();
            assertTrue(pair.contains(ref), "the noise is not the reference: " + status.get("uniformity"));
            assertFalse(reference.get("reference_verified").asBoolean(true), reference.toString());
            String other = pair.get(1 - pair.indexOf(ref));
            assertTrue(status.get("uniformity").toString().contains("\"participant\":\"" + other + "\"")
                    && status.get("uniformity").toString().contains("\"same_prior_as\":\"" + ref + "\""),
                    "one vote: " + status.get("uniformity"));

            OptimizedDataset fused = OptimizedDataset.read(tmp.resolve("platform").resolve("fused"));
            List<ManifestProvenance.Participant> described = fused.provenance().participants();
            assertEquals(3, described.size(), "all three fused, both of the prior's participants with their shards");
            assertEquals("linear:1", described.get(fused.provenance().alignment().reference()).prior());
            assertEquals(Boolean.FALSE, fused.provenance().alignment().referenceVerified());
        }
    }

    /** The simulated participant under its platform id (the key's). */
    record Renamed(Simulated inner, String id) implements Participant {
        @Override
        public SharedOutputs embedShared(ImageSet shared) {
            SharedOutputs s = inner.embedShared(shared);
            return new SharedOutputs(id, s.prior(), s.values(), 0, 0);
        }

        @Override
        public ShardOutputs embedShard(int shard, ImageSet images, long[] ids) {
            ShardOutputs o = inner.embedShard(shard, images, ids);
            return new ShardOutputs(id, shard, ids, o.rows(), 0);
        }

        @Override
        public float[] embedImages(ImageSet images) {
            return inner.embedImages(images);
        }

        @Override
        public void close() {}
    }
}
