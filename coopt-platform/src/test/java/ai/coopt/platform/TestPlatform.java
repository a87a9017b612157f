package ai.coopt.platform;

import ai.coopt.collab.PriorReport;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.platform.server.PlatformServer;
import ai.coopt.platform.server.PlatformService;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.util.ProgressListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/** A platform serving on loopback in the test's JVM: database, service and server, closed together. */
public record TestPlatform(Database db, PlatformStore store, PlatformService service, PlatformServer server)
        implements AutoCloseable {
    /** Starts a new round in {@code tmp/platform} on the database {@code dbUrl}; {@code tls} null for plain HTTP. */
    public static TestPlatform start(String dbUrl, Path tmp, PlatformConfig config, ImageSet images,
                                     PlatformServer.Tls tls) {
        return startIn(dbUrl, tmp.resolve("platform"), config, images, tls, System::currentTimeMillis);
    }

    /**
     * Starts (or joins: a second serve process) the round in {@code dir} on the database {@code dbUrl}, with its own
     * connection, on a free loopback port, telling time by {@code clock}.
     */
    public static TestPlatform startIn(String dbUrl, Path dir, PlatformConfig config, ImageSet images,
                                       PlatformServer.Tls tls, LongSupplier clock) {
        return startIn(dbUrl, dir, config, images, tls, clock, PlatformServer.Limits.DEFAULT);
    }

    /** As {@link #startIn(String, Path, PlatformConfig, ImageSet, PlatformServer.Tls, LongSupplier)}, under {@code limits}. */
    public static TestPlatform startIn(String dbUrl, Path dir, PlatformConfig config, ImageSet images,
                                       PlatformServer.Tls tls, LongSupplier clock, PlatformServer.Limits limits) {
        Database db = Database.open(dbUrl);
        PlatformStore store = new PlatformStore(db);
        PlatformService service = PlatformService.open(dir, store, config, images, clock, ProgressListener.NONE);
        return new TestPlatform(db, store, service,
                PlatformServer.start(service, clock, "test", "127.0.0.1", 0, tls, limits));
    }

    /** The uploads being received under a platform directory's {@code staging/} (every process's; not the lock files). */
    public static List<Path> stagedFiles(Path platformDir) {
        Path staging = platformDir.resolve("staging");
        if (!Files.exists(staging)) {
            return List.of();
        }
        try (Stream<Path> all = Files.walk(staging)) {
            return all.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().equals(".lock")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A platform on SQLite in {@code tmp} over the {@link #config} round of 300 Fashion-MNIST images, telling time by
     * {@code clock}, under {@code limits}; {@code tls} null for plain HTTP.
     */
    public static TestPlatform small(Path tmp, PlatformServer.Tls tls, LongSupplier clock, PlatformServer.Limits limits) {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", 300);
        return startIn(TestDatabases.sqlite(tmp), tmp.resolve("platform"), config(images), images, tls, clock, limits);
    }

    /** A round of 300 Fashion-MNIST images ({@code images}) in 2 shards with 20 shared images, for hostile tests. */
    public static PlatformConfig config(ImageSet images) {
        return new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 300, null, 300, images.fingerprint(), 0,
                2, null, 20, 1, 60, "ridge", 0, Instant.now().toString(), "test", List.of("t"));
    }

    /** A prior report for hand-made outputs of width {@code dim} (a random convnet-s on 28×28 gray images). */
    public static PriorReport report(int dim) {
        return new PriorReport("random:convnet-s:9", "random", "0".repeat(64),
                new ManifestProvenance.Input(1, 28, 28, List.of(0.5), List.of(0.25), "none"), dim, -1.5, 20);
    }

    /** {@code n} standard Gaussian values from {@code seed}. */
    public static float[] gaussian(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    public String url() {
        return server.url("127.0.0.1");
    }

    /** The operator's token (the platform directory's, made when the server started). */
    public String operatorToken() {
        return OperatorToken.loadOrCreate(service.dir());
    }

    /** A client that reads as the operator (status, round, dataset). */
    public PlatformClient operator() {
        return new PlatformClient(url(), null, null, operatorToken(), java.time.Duration.ofSeconds(10),
                System.err::println);
    }

    /** A participant enrolled with a new key: its platform id and its client's view of the platform. */
    public record Enrolled(String id, ai.coopt.collab.Platform platform) {}

    /**
     * Enrols a participant named {@code name} with a new key in {@code tmp} (invite, signed enrolment) and gives it a
     * work directory there; its requests are signed.
     */
    public Enrolled enroll(String name, Path tmp) throws IOException {
        ai.coopt.platform.auth.KeyFile key = ai.coopt.platform.auth.KeyFile.create(tmp.resolve(name + ".key"));
        String invite = store.participants().createInvite(name, System.currentTimeMillis(), 60_000);
        PlatformClient client = new PlatformClient(url(), null, key, java.time.Duration.ofSeconds(20), m -> { });
        client.post("/v1/enroll", java.util.Map.of("invite", invite, "public_key", key.publicKeyBase64()), key);
        Path work = Files.createDirectories(tmp.resolve("work-" + name));
        return new Enrolled(key.participantId(),
                new ai.coopt.platform.client.RemotePlatform(client, key.participantId(), work, null));
    }

    @Override
    public void close() {
        server.close();
        service.close();
        db.close();
    }
}
