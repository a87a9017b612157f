package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.platform.PlatformHome;
import ai.coopt.platform.RoundConfiguration;
import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.server.PlatformServer;
import ai.coopt.platform.server.PlatformService;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code coopt platform serve}: a platform round served over HTTP(S) until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Start a platform round in --dir (or resume the one there): plan shards and the shared subset, "
                + "write each shard's images once, and serve them to enrolled participants over HTTP(S) until stopped.")
final class PlatformServe implements Callable<Integer> {
    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The platform's directory (state, shards, uploads, the fused dataset).")
    Path dir;

    @Mixin
    DataOptions input;

    @Option(names = "--shards", description = "Shards the data is split into (default: 8); a faster participant takes more of them.")
    Integer shards;

    @ArgGroup(exclusive = true)
    FusionOptions.Shared shared = new FusionOptions.Shared();

    @Mixin
    DbOption db;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}; "
            + "anything but loopback needs --tls-keystore or --insecure-http).")
    String host;

    @Option(names = "--port", defaultValue = "8470", description = "Port (default: ${DEFAULT-VALUE}; 0 = any free port).")
    int port;

    @Option(names = "--tls-keystore", paramLabel = "FILE.p12", description = "PKCS#12 keystore with the server's key and certificate: serve HTTPS.")
    Path keystore;

    @Option(names = "--tls-password-file", paramLabel = "FILE", description = "File holding the keystore's password (first line).")
    Path passwordFile;

    @Option(names = "--public-dashboard", description = "Open the dashboard (/) and /v1/status to anyone who reaches "
            + "the port (default: enrolled participants and the operator only).")
    boolean publicDashboard;

    @Option(names = "--public-dataset", description = "Open the fused dataset (/v1/dataset) to anyone who reaches "
            + "the port (default: enrolled participants and the operator only).")
    boolean publicDataset;

    @Option(names = "--insecure-http", description = "Serve plain HTTP on a non-loopback address (requests are still signed, but not private).")
    boolean insecure;

    @Option(names = "--lease-seconds", defaultValue = "600", description = "A lease expires unless renewed within this many seconds (default: ${DEFAULT-VALUE}).")
    int leaseSeconds;

    @Option(names = "--max-lease-hours", defaultValue = "24", description = "The longest one lease may be held, "
            + "renewals included, without an upload; then the shard is open again and offered to others first "
            + "(default: ${DEFAULT-VALUE}; fractions allowed). Not fixed with the round: a restart may change it.")
    double maxLeaseHours;

    @Option(names = "--max-leases-per-participant", defaultValue = "4", description = "How many shards one participant "
            + "may hold at once: an organisation runs participant run with one key on several machines, each "
            + "process with a lease of its own (default: ${DEFAULT-VALUE}).")
    int maxLeases;

    @Option(names = "--align", defaultValue = "ridge", description = FusionOptions.ALIGN_HELP)
    String align;

    @Option(names = "--audit-rows", description = "Rows of each accepted shard the platform asks its participant for "
            + "again, at random (default: 128; a quarter as many rows of S are mixed in). Fixed when the round starts.")
    Integer auditRows;

    @Option(names = "--audit-seconds", description = "How long a participant has to answer an audit before it is "
            + "quarantined (default: 600). Fixed when the round starts.")
    Integer auditSeconds;

    @Option(names = "--dim", defaultValue = "0", description = "Target width after fusion (default: the reference's width, at most 512).")
    int dim;

    @Option(names = "--seed", description = "Seeds the shards and S (default: 0).")
    Long seed;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        if (shards != null) {
            Check.positive("--shards", shards);
        }
        Check.positive("--lease-seconds", leaseSeconds);
        Check.positive("--max-leases-per-participant", maxLeases);
        if (!(maxLeaseHours > 0) || maxLeaseHours > 24 * 365 || maxLeaseHours * 3600 < leaseSeconds) {
            throw new UserException("--max-lease-hours must be positive, at most a year, and at least --lease-seconds "
                    + "(" + leaseSeconds + " s), not " + maxLeaseHours);
        }
        if (auditRows != null) {
            Check.positive("--audit-rows", auditRows);
        }
        if (auditSeconds != null) {
            Check.positive("--audit-seconds", auditSeconds);
        }
        Check.atLeast("--dim", dim, 0);
        if (port < 0 || port > 65535) {
            throw new UserException("--port must be between 0 and 65535, not " + port);
        }
        ai.coopt.collab.Alignment.named(align);
        PlatformServer.Tls tls = tls();
        boolean loopback = loopback(host);
        if (tls == null && !loopback) {
            if (!insecure) {
                throw new UserException("--host " + host + " is not loopback: serve with --tls-keystore FILE.p12 "
                        + "--tls-password-file F (or, knowingly, --insecure-http)");
            }
            Output.note("coopt platform: WARNING: serving plain HTTP on " + host + " (--insecure-http): requests are "
                    + "signed but anyone on the network can read them and the data");
        }
        common.engine();
        PlatformHome.create(dir);
        String dbUrl = db.resolve(dir);
        Database database = db.open(dbUrl);
        PlatformStore store = new PlatformStore(database);
        RoundConfiguration.Resolved round = RoundConfiguration.resolve(store, new RoundConfiguration.Request(input.data,
                input.split, input.limit, input.limitSeed, input.image.imageSize, shards,
                shared == null ? null : shared.fraction, shared == null ? null : shared.count, seed, leaseSeconds, align,
                dim, auditRows, auditSeconds), () -> input.spec().load(input.split, input.limit), Version.get(),
                Main.commandLine());
        boolean resume = round.resumed();
        if (resume) {
            Output.note("coopt platform: resuming the round in " + dir);
        }
        PlatformHome.recordDatabase(dir, dbUrl);
        PlatformService service = PlatformService.open(dir, store, round.config(), round.images(), System::currentTimeMillis,
                new CliProgress());
        service.capLeases(Duration.ofMillis(Math.round(maxLeaseHours * 3_600_000)));
        service.capLeasesPerParticipant(maxLeases);
        service.recover();
        service.watchFusion();
        String operatorToken = OperatorToken.loadOrCreate(dir);
        PlatformServer server = PlatformServer.start(service, System::currentTimeMillis, Version.get(), host, port, tls,
                PlatformServer.Limits.DEFAULT, operatorToken, publicDashboard, publicDataset);
        String url = server.url(host);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            service.close();
            database.close();
            stopped.countDown();
        }, "coopt-platform-stop"));
        Output.note("coopt platform: serving " + service.config().data() + " (" + service.config().count() + " images, "
                + service.config().shards() + " shards) at " + url + " — dashboard " + url + "/ ; Ctrl-C stops");
        // the token itself is never printed (stderr ends up in logs): it is read from its 0600 file
        Path tokenFile = dir.resolve(OperatorToken.FILE);
        Output.note("coopt platform: operator access: the token is in " + tokenFile + " (0600); log in to the "
                + "dashboard at " + url + "/login?token=TOKEN, or `coopt platform status --operator-token-file "
                + tokenFile + "`" + (publicDashboard || publicDataset ? "; open to anyone: "
                + (publicDashboard ? "dashboard and status" : "") + (publicDashboard && publicDataset ? ", " : "")
                + (publicDataset ? "dataset" : "") : ""));
        if (common.json) {
            ObjectNode o = Output.object();
            o.put("url", url);
            o.put("dir", dir.toAbsolutePath().toString());
            o.put("db", PlatformHome.redacted(dbUrl));
            o.put("resumed", resume);
            System.out.println(Output.JSON.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(o));
            System.out.flush();
        }
        stopped.await();
        return 0;
    }

    private PlatformServer.Tls tls() {
        if (keystore == null && passwordFile == null) {
            return null;
        }
        if (keystore == null || passwordFile == null) {
            throw new UserException("--tls-keystore and --tls-password-file go together");
        }
        if (!Files.isRegularFile(keystore)) {
            throw new UserException(keystore + ": no such keystore");
        }
        try {
            List<String> lines = Files.readAllLines(passwordFile, StandardCharsets.UTF_8);
            if (lines.isEmpty()) {
                throw new UserException(passwordFile + ": empty; the first line must be the keystore's password");
            }
            char[] password = lines.get(0).toCharArray();
            PlatformHome.checkKeystore(keystore, password);
            return new PlatformServer.Tls(keystore, password);
        } catch (IOException e) {
            throw new UserException(passwordFile + ": cannot read: " + e.getMessage());
        }
    }

    private static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new UserException("--host " + host + ": unknown host");
        }
    }
}
