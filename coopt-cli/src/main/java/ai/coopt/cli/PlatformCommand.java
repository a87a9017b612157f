package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.data.ImageSet;
import ai.coopt.platform.PlatformHome;
import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.client.DatasetDownload;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.DatabasePassword;
import ai.coopt.platform.db.DatabaseUrl;
import ai.coopt.platform.db.Fusion;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.Participant;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Round;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.platform.server.PlatformServer;
import ai.coopt.platform.server.PlatformService;
import com.fasterxml.jackson.databind.JsonNode;
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
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code coopt platform …}: the open data platform as a networked service, and the commands that talk to one. */
@Command(name = "platform", mixinStandardHelpOptions = true,
        description = "The open data platform: serve a round to participants on other machines, invite them, watch it, "
                + "fuse and download the optimized dataset.",
        subcommands = {PlatformCommand.Serve.class, PlatformCommand.Invite.class, PlatformCommand.Status.class,
                PlatformCommand.Download.class, PlatformCommand.Fuse.class, PlatformCommand.NextRound.class, PlatformCommand.Revoke.class})
final class PlatformCommand {
    private PlatformCommand() {}

    /** {@code --db}: where the platform's state lives (default: SQLite in the directory). */
    static final class DbOption {
        @Option(names = "--db", paramLabel = "URL", description = "sqlite:FILE or postgresql://HOST:PORT/DB?user=U "
                + "(default: the one the platform directory was started with; SQLite platform.db in it for a new one).")
        String db;

        @Option(names = "--db-password-file", paramLabel = "FILE", description = "File holding the PostgreSQL password "
                + "(first line). Without it: " + DatabasePassword.ENV + ", then " + DatabasePassword.PG_ENV + ", then "
                + "~/.pgpass. A password in the URL works too, but is visible in ps; it is never recorded.")
        Path passwordFile;

        String resolve(Path dir) {
            return PlatformHome.database(dir, db);
        }

        /** The database {@link #resolve} names, opened with its password from wherever it is given. */
        Database open(String url) {
            return Database.open(DatabasePassword.resolve(DatabaseUrl.parse(url), passwordFile, System.getenv()));
        }
    }

    /** {@code --dir} and {@code --db} of a command that works on an existing platform's directory and database. */
    static final class ExistingPlatform {
        @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The platform's directory.")
        Path dir;

        @Mixin
        DbOption db;

        /** Its database, opened; one line (exit 2) when the directory is not a platform's. */
        Database open() {
            PlatformHome.requireExisting(dir);
            return db.open(db.resolve(dir));
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true,
            description = "Start a platform round in --dir (or resume the one there): plan shards and the shared subset, "
                    + "write each shard's images once, and serve them to enrolled participants over HTTP(S) until stopped.")
    static final class Serve implements Callable<Integer> {
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
            boolean resume = store.rounds().current().isPresent();
            Double fraction = shared == null ? null : shared.fraction;
            Integer count = shared == null ? null : shared.count;
            if (!resume && fraction == null && count == null) {
                fraction = CollaborativeOptimization.DEFAULT_SHARED_FRACTION;
            }
            ImageSet images = null;
            PlatformConfig asked;
            if (resume) {
                asked = PlatformConfig.fromJson(store.rounds().current().get().configJson()).resumedWith(new PlatformConfig.Resume(
                        input.data, input.split, input.limit, input.limitSeed, input.image.imageSize, shards, fraction,
                        count, seed, leaseSeconds, align, dim));
                Output.note("coopt platform: resuming the round in " + dir);
            } else {
                images = input.spec().load(input.split, input.limit);
                asked = new PlatformConfig(PlatformConfig.FORMAT, input.data, input.split, input.limit,
                        input.image.imageSize, images.count(), images.fingerprint(), images.skipped(),
                        shards == null ? 8 : shards, fraction, count, seed == null ? 0 : seed, leaseSeconds, align, dim,
                        Instant.now().toString(), Version.get(), Main.commandLine())
                        .withSubset(input.limitSeed, null);  // the service records the images' draw
                PlatformConfig.Audits d = PlatformConfig.Audits.DEFAULT;
                int rows = auditRows == null ? d.rows() : auditRows;
                asked = asked.withAudits(new PlatformConfig.Audits(rows, auditRows == null ? d.sharedRows()
                        : Math.max(1, rows / 4), auditSeconds == null ? d.seconds() : auditSeconds));
            }
            PlatformHome.recordDatabase(dir, dbUrl);
            PlatformService service = PlatformService.open(dir, store, asked, images, System::currentTimeMillis,
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

    @Command(name = "invite", mixinStandardHelpOptions = true,
            description = "Make a one-time enrolment token for a participant (stored hashed; shown once).")
    static final class Invite implements Callable<Integer> {
        @Mixin
        ExistingPlatform platform;

        @Option(names = "--name", required = true, description = "The participant's name, as the dashboard shows it (unique).")
        String name;

        @Option(names = "--expires-hours", defaultValue = "24", description = "The token expires after this many hours (default: ${DEFAULT-VALUE}).")
        int hours;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            Check.positive("--expires-hours", hours);
            if (name.isBlank() || name.length() > 100 || name.chars().anyMatch(Character::isISOControl)) {
                throw new UserException("--name must be 1 to 100 printable characters");
            }
            try (Database database = platform.open()) {
                PlatformStore store = new PlatformStore(database);
                long now = System.currentTimeMillis();
                String token = store.participants().createInvite(name, now, Duration.ofHours(hours).toMillis());
                ObjectNode o = Output.object();
                o.put("name", name);
                o.put("invite", token);
                o.put("expires_at", Instant.ofEpochMilli(now + Duration.ofHours(hours).toMillis()).toString());
                Output.print(common.json, o, token);
                Output.note("coopt platform: invite for " + name + " (single use, expires in " + hours + " h): "
                        + "coopt participant enroll --platform URL --invite " + token + " --key KEYFILE");
            }
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "A platform's state as JSON: shards by state, participants (with why any is quarantined), uploads, audits, uniformity ranking, residuals, fusion.")
    static final class Status implements Callable<Integer> {
        @Mixin
        PlatformOptions remote;

        @Mixin
        OperatorOptions operator;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() throws IOException {
            PlatformClient client = remote.operatorClient(operator.token(), Duration.ofSeconds(30));
            JsonNode status;
            try {
                status = client.get("/v1/status");
            } catch (PlatformClient.Refusal e) {
                throw new UserException("the platform refused the status (HTTP " + e.status() + "): " + e.getMessage());
            }
            System.out.println(common.json ? Output.JSON.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(status)
                    : Output.JSON.writeValueAsString(status));
            return 0;
        }
    }

    @Command(name = "download", mixinStandardHelpOptions = true,
            description = "Download the fused optimized dataset (the same format coopt collab writes), verified file by file.")
    static final class Download implements Callable<Integer> {
        @Mixin
        PlatformOptions remote;

        @Mixin
        OperatorOptions operator;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the optimized dataset.")
        Path out;

        @Option(names = "--round", paramLabel = "N", description = "Which round's dataset (default: the newest fused round's).")
        Integer round;

        @Option(names = "--wait", arity = "0..1", fallbackValue = "3600", paramLabel = "SECONDS", description = "While the "
                + "round is not fused yet, ask again (1 s, 2 s, 4 s … 15 s apart) for at most SECONDS (default with "
                + "--wait alone: 3600); without it, a dataset not ready yet is an error at once.")
        Integer waitSeconds;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            if (round != null) {
                Check.positive("--round", round);
            }
            if (waitSeconds != null) {
                Check.atLeast("--wait", waitSeconds, 0);
            }
            PlatformClient client = remote.operatorClient(operator.token(), Duration.ofMinutes(5));
            DatasetDownload.Result r = DatasetDownload.fetch(client, out, round,
                    Duration.ofSeconds(waitSeconds == null ? 0 : waitSeconds), Output::note);
            ObjectNode o = Output.object();
            o.put("out", out.toAbsolutePath().toString());
            o.put("round", r.round());
            o.put("count", r.count());
            o.put("dim", r.dim());
            o.put("files", r.files());
            o.put("bytes", r.bytes());
            Output.print(common.json, o, String.format(Locale.ROOT, "downloaded round %d's dataset to %s: %d targets of dim %d "
                    + "(%d files, %.1f MB), verified", r.round(), out, r.count(), r.dim(), r.files(), r.bytes() / 1e6));
            return 0;
        }
    }

    @Command(name = "fuse", mixinStandardHelpOptions = true,
            description = "Fuse the current round now with the shards accepted so far (recorded as forced in the dataset "
                    + "and the status).")
    static final class Fuse implements Callable<Integer> {
        @Mixin
        ExistingPlatform platform;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() throws IOException {
            Path dir = platform.dir;
            PlatformHome.requireExisting(dir);
            common.engine();
            try (Database database = platform.open()) {
                PlatformStore store = new PlatformStore(database);
                try (PlatformService service = PlatformService.existing(dir, store, System::currentTimeMillis)) {
                    if (!service.claimFusion(true)) {
                        throw new UserException("fusion is " + store.fusion().state().state().name().toLowerCase(Locale.ROOT)
                                + " already");
                    }
                    service.fuse(true);
                    Fusion f = store.fusion().state();
                    if (f.state() != FusionState.DONE) {
                        throw new UserException("fusion failed: " + f.detailJson());
                    }
                    int round = store.rounds().current().orElseThrow().id();
                    Path fused = PlatformService.fusedDir(dir, round);
                    ObjectNode o = Output.object();
                    o.put("round", round);
                    o.put("out", fused.toAbsolutePath().toString());
                    o.put("state", "done");
                    o.put("forced", true);
                    o.set("detail", Output.JSON.readTree(f.detailJson()));
                    Output.print(common.json, o, "fused round " + round + " into " + fused);
                }
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Quarantine a participant by hand (a squatter, a leaked key, a party that left): its uploads "
                    + "of this round are withdrawn, the shards it filled or holds are open again, its pending audits "
                    + "fail, and it gets nothing more from the platform. Recorded with the reason, shown on the "
                    + "dashboard and in the status. Works against a running serve (same database).")
    static final class Revoke implements Callable<Integer> {
        /** Prefix of every reason given by hand, so the dashboard tells the operator's quarantines from the checks'. */
        static final String PREFIX = "revoked by the operator: ";

        @Mixin
        ExistingPlatform platform;

        @Option(names = "--participant", required = true, paramLabel = "ID", description = "The participant's id (as the dashboard or status shows it).")
        String participant;

        @Option(names = "--reason", required = true, description = "Why, in one line (recorded and shown).")
        String reason;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            if (reason.isBlank() || reason.length() > 300 || reason.chars().anyMatch(Character::isISOControl)) {
                throw new UserException("--reason must be 1 to 300 printable characters");
            }
            try (Database database = platform.open()) {
                PlatformStore store = new PlatformStore(database);
                Participant p = store.participants().get(participant).orElseThrow(() -> new UserException(
                        "--participant " + participant + ": no such participant in " + platform.dir
                                + " (coopt platform status lists them)"));
                boolean changed = store.audits().quarantine(p.id(), PREFIX + reason.strip(), System.currentTimeMillis());
                Participant now = store.participants().get(p.id()).orElseThrow();
                ObjectNode o = Output.object();
                o.put("participant", now.id());
                o.put("name", now.name());
                o.put("revoked", changed);
                o.put("reason", now.quarantineReason());
                Output.print(common.json, o, changed
                        ? "revoked " + now.name() + " (" + now.id() + "): " + now.quarantineReason()
                        : now.name() + " (" + now.id() + ") was already quarantined: " + now.quarantineReason());
            }
            return 0;
        }
    }

    @Command(name = "next-round", mixinStandardHelpOptions = true,
            description = "Open the next round over the same data, shards and shared subset, once the current round is "
                    + "fused (its dataset written): every shard is open again, participants send their outputs on the "
                    + "shared subset again (they may bring another prior), and earlier rounds' datasets stay "
                    + "downloadable (coopt platform download --round N). A running serve picks the new round up; no "
                    + "restart needed.")
    static final class NextRound implements Callable<Integer> {
        @Mixin
        ExistingPlatform platform;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            Path dir = platform.dir;
            try (Database database = platform.open()) {
                PlatformStore store = new PlatformStore(database);
                int previous = store.rounds().current().map(Round::id).orElse(0);
                Round opened = PlatformService.nextRound(dir, store, System.currentTimeMillis());
                ObjectNode o = Output.object();
                o.put("round", opened.id());
                o.put("previous", previous);
                o.put("previous_dataset", PlatformService.fusedDir(dir, previous).toAbsolutePath().toString());
                o.put("shards", store.rounds().shards().size());
                o.put("created_at", Instant.ofEpochMilli(opened.createdAt()).toString());
                Output.print(common.json, o, "opened round " + opened.id() + " in " + dir + " (" + store.rounds().shards().size()
                        + " shards open; round " + previous + "'s dataset stays downloadable with --round " + previous + ")");
            }
            return 0;
        }
    }
}
