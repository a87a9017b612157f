package ai.coopt.platform.demo;

import ai.coopt.UserException;
import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.PlatformHome;
import ai.coopt.platform.api.Status;
import ai.coopt.platform.api.Wire;
import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.client.DatasetDownload;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.platform.server.PlatformServer;
import ai.coopt.platform.server.PlatformService;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Json;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.util.ProgressListener;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The demo's collaboration over the network, on loopback: a platform served from this process (SQLite in
 * {@code DIR/platform}) and one {@code coopt participant} process per prior, each enrolled with its own invite and
 * key, leasing shards until the round is done; then the fused dataset is downloaded as any user would.
 */
final class NetworkedRound {
    /** What the round made: the collaboration's summary (as collab reports it), the platform's final status. */
    record Outcome(CollaborativeOptimization.Result result, Status status, Path platformDir) {}

    private NetworkedRound() {}

    static Outcome run(Path out, Path fused, DatasetSpec data, Integer imageSize, int limit,
                       List<String> priors, int shards, long seed, ProgressListener progress, Demo.Context context)
            throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Path dir = out.resolve("platform");
        replaceEarlierPlatform(dir);
        Files.createDirectories(dir.resolve("logs"));
        ImageSet images = data.load("train", limit);
        if (shards > images.count()) {
            throw new ai.coopt.UserException("the networked round needs at least " + shards + " training images, not "
                    + images.count());
        }
        PlatformConfig config = new PlatformConfig(PlatformConfig.FORMAT, data.spec(), "train", limit, imageSize,
                images.count(), images.fingerprint(), images.skipped(), shards,
                CollaborativeOptimization.DEFAULT_SHARED_FRACTION, null, seed, 120, "ridge", 0, Instant.now().toString(),
                context.version(), context.commandLine());
        String db = "sqlite:" + dir.resolve("platform.db").toAbsolutePath();
        PlatformHome.recordDatabase(dir, db);
        Map<String, Double> phases = new LinkedHashMap<>();
        try (Database database = Database.open(db)) {
            PlatformStore store = new PlatformStore(database);
            long p = System.nanoTime();
            try (PlatformService service = PlatformService.open(dir, store, config, images, System::currentTimeMillis, progress);
                 PlatformServer server = PlatformServer.start(service, System::currentTimeMillis, context.version(),
                         "127.0.0.1", 0, null)) {
                phases.put("distribution", (System.nanoTime() - p) / 1e9);
                String url = server.url("127.0.0.1");
                context.notes().accept("coopt demo: platform at " + url + " (dashboard: " + url + "/), " + shards + " shards, "
                        + priors.size() + " participant processes");
                p = System.nanoTime();
                List<Process> enrolments = new ArrayList<>();
                for (int i = 0; i < priors.size(); i++) {
                    String name = "participant-" + (i + 1);
                    String invite = store.participants().createInvite(name, System.currentTimeMillis(), Duration.ofHours(1).toMillis());
                    Files.createDirectories(dir.resolve("keys"));
                    enrolments.add(context.participants().start(dir.resolve("logs").resolve(name + "-enroll"), "participant", "enroll",
                            "--platform", url, "--invite", invite, "--key", key(dir, i).toString(), "--json"));
                }
                for (int i = 0; i < priors.size(); i++) {
                    finish(enrolments.get(i), dir.resolve("logs").resolve("participant-" + (i + 1) + "-enroll"), 300,
                            "enrolling participant-" + (i + 1));
                }
                // every participant takes part: at most its fair share of the shards, so on a small --limit the
                // first one to start cannot do them all before the others have loaded their priors
                String share = Integer.toString((shards + priors.size() - 1) / priors.size());
                List<Process> runs = new ArrayList<>();
                for (int i = 0; i < priors.size(); i++) {
                    runs.add(context.participants().start(dir.resolve("logs").resolve("participant-" + (i + 1)), "participant", "run",
                            "--platform", url, "--key", key(dir, i).toString(), "--prior", priors.get(i), "--threads", "1",
                            "--max-shards", share, "--json"));
                }
                List<JsonNode> summaries = new ArrayList<>();
                for (int i = 0; i < runs.size(); i++) {
                    Path log = dir.resolve("logs").resolve("participant-" + (i + 1));
                    finish(runs.get(i), log, 3600, "participant-" + (i + 1) + " (" + priors.get(i) + ")");
                    summaries.add(Json.mapper().readTree(Files.readString(Path.of(log + ".out"))));
                }
                phases.put("optimization", (System.nanoTime() - p) / 1e9);
                // the demo's operator reads the status and downloads the dataset with its token, as any operator does
                PlatformClient client = new PlatformClient(url, null, null, OperatorToken.loadOrCreate(dir),
                        Duration.ofSeconds(30), context.notes());
                Status status = awaitFusion(client);
                JsonNode detail = Json.mapper().readTree(store.fusion().state().detailJson());
                phases.put("alignment", detail.path("alignment_seconds").asDouble());
                phases.put("fusion", detail.path("fusion_seconds").asDouble());
                DatasetDownload.fetch(client, fused);
                return new Outcome(result(detail, summaries, fused, phases, t0, images.skipped(), status, priors), status,
                        dir);
            }
        }
    }

    /**
     * The collaboration's summary in the shape {@code coopt collab} reports: participants in the manifest's order
     * (the order fusion took them, which the fusion detail's residuals keep), each named by the prior spec it was
     * started with, with its own wall time from its JSON summary.
     */
    private static CollaborativeOptimization.Result result(JsonNode detail, List<JsonNode> summaries, Path fused,
                                                           Map<String, Double> phases, long t0, int skipped,
                                                           Status status, List<String> started) {
        OptimizedDataset d = OptimizedDataset.read(fused);
        Map<String, JsonNode> byId = new LinkedHashMap<>();
        summaries.forEach(s -> byId.put(s.path("participant_id").asText(), s));
        List<String> priors = new ArrayList<>();
        List<Double> seconds = new ArrayList<>();
        detail.path("residuals").fieldNames().forEachRemaining(id -> {
            JsonNode s = byId.get(id);
            priors.add(s == null ? id : s.path("prior").asText());
            seconds.add(s == null ? 0.0 : s.path("seconds").asDouble());
        });
        double uniformitySeconds = summaries.stream().mapToDouble(s -> s.path("uniformity_seconds").asDouble()).sum();
        List<Double> uniformity = d.provenance().participants().stream().map(x -> x.uniformity()).toList();
        var a = d.provenance().alignment();
        return new CollaborativeOptimization.Result(fused, d.count(), d.dim(), priors, uniformity, a.reference(),
                Boolean.TRUE.equals(a.referenceVerified()), a.residuals(), a.regularizations(), seconds, uniformitySeconds, summaries.size(), phases,
                (System.nanoTime() - t0) / 1e9, skipped, notes(detail), quarantined(status, started), 0,
                d.provenance().source().subset());
    }

    /** The participants the platform quarantined, by their position in the demo's list of priors. */
    private static List<CollaborativeOptimization.Exclusion> quarantined(Status status, List<String> started) {
        List<CollaborativeOptimization.Exclusion> out = new ArrayList<>();
        for (Status.ParticipantView p : status.participants()) {
            if (p.quarantined() != null) {
                int i = Integer.parseInt(p.name().substring("participant-".length())) - 1;
                out.add(new CollaborativeOptimization.Exclusion(i, started.get(i), p.quarantined()));
            }
        }
        return out;
    }

    private static List<String> notes(JsonNode detail) {
        List<String> notes = new ArrayList<>();
        detail.path("notes").forEach(n -> notes.add(n.asText()));
        return notes;
    }

    private static Path key(Path dir, int i) {
        return dir.resolve("keys").resolve("participant-" + (i + 1) + ".key");
    }

    private static Status awaitFusion(PlatformClient client) throws InterruptedException {
        for (int i = 0; i < 36_000; i++) {
            Status s = Wire.read(client.get("/v1/status"), Status.class, "GET /v1/status");
            String state = s.fusion() == null ? "" : s.fusion().state();
            if (state.equals("done")) {
                return s;
            }
            if (state.equals("failed")) {
                throw new UserException("the platform's fusion failed: " + s.fusion().error());
            }
            Thread.sleep(100);
        }
        throw new UserException("the platform did not finish fusion within an hour");
    }

    private static void finish(Process p, Path log, long seconds, String what) throws InterruptedException, IOException {
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new UserException(what + " did not finish in " + seconds + " s; see " + log + ".err");
        }
        if (p.exitValue() != 0) {
            List<String> lines = Files.readAllLines(Path.of(log + ".err"), StandardCharsets.UTF_8);
            throw new UserException(what + " failed (exit " + p.exitValue() + "): "
                    + (lines.isEmpty() ? "no message" : lines.get(lines.size() - 1)) + " — see " + log + ".err");
        }
    }

    /** An earlier demo's platform directory is replaced; a directory that is not one is refused. */
    private static void replaceEarlierPlatform(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        if (!Files.isRegularFile(dir.resolve(PlatformHome.FILE))) {
            throw new UserException(dir + " exists and is not a platform directory; refusing to replace it");
        }
        AtomicFiles.deleteTree(dir, false);
    }
}
