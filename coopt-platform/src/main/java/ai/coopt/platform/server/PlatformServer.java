package ai.coopt.platform.server;

import ai.coopt.UserException;
import ai.coopt.platform.api.Accepted;
import ai.coopt.platform.api.Audits;
import ai.coopt.platform.api.DatasetFile;
import ai.coopt.platform.api.DatasetListing;
import ai.coopt.platform.api.EnrollRequest;
import ai.coopt.platform.api.Enrolled;
import ai.coopt.platform.api.Health;
import ai.coopt.platform.api.RenewRequest;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.auth.Ed25519Keys;
import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.auth.Sha256;
import ai.coopt.platform.db.Participant;
import ai.coopt.platform.db.Redemption;
import ai.coopt.store.Json;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.security.RouteRole;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The platform's HTTP service (Javalin on Jetty): the read-only pages and JSON for participants and the operator
 * ({@link Access}; anyone may fetch {@code /health} and {@code /openapi.json}), and the routes a registered participant
 * calls with requests signed by its Ed25519 key. Every refusal is a 4xx with
 * {@code {"error": reason}}; nothing a request sends is trusted before it is checked.
 */
public final class PlatformServer implements AutoCloseable {
    /** The largest JSON body a route reads (enrolment, renewals). */
    private static final int MAX_JSON = 64 << 10;
    /** The largest enrolment body (an invite of at most 200 characters and a 44-character key, in JSON). */
    private static final int MAX_ENROLL = 4 << 10;
    /** The context attribute holding a JSON body read by {@link #authenticate}. */
    private static final String BODY = "coopt.body";
    /** The request attribute that names the participant who signed the request. */
    private static final String WHO = "coopt.participant";
    /** How far a request's timestamp may be from the platform's clock. */
    public static final long WINDOW_MILLIS = 60_000;

    private final PlatformService service;
    private final RequestSignature signatures = new RequestSignature(WINDOW_MILLIS);
    private final LongSupplier clock;
    private final String version;
    private final Javalin app;
    private final String scheme;
    /** This server's OpenAPI document, made from the routes it registers ({@link OpenApi}). */
    private final byte[] openApi = OpenApi.json();

    /** TLS settings: a PKCS#12 keystore and its password. */
    public record Tls(Path keystore, char[] password) {}

    /**
     * What bounds the server's threads against slow or flooding clients.
     *
     * @param maxThreads           Jetty's thread pool
     * @param idleTimeoutMillis    a connection silent this long is closed (headers arriving slowly hold no thread)
     * @param anonymousReaders     threads that may read bodies of requests not yet authenticated (enrolment) at once
     * @param readersPerParticipant requests of one participant that may send their bodies at once
     * @param jsonDeadlineMillis   a JSON body must arrive whole within this
     * @param graceMillis          a streamed body (upload, answer) may start slowly for this long ...
     * @param minBytesPerSecond    ... then must keep up this rate on average
     */
    public record Limits(int maxThreads, long idleTimeoutMillis, int anonymousReaders, int readersPerParticipant,
                         long jsonDeadlineMillis, long graceMillis, long minBytesPerSecond) {
        public static final Limits DEFAULT = new Limits(250, 30_000, 16, 4, 10_000, 10_000, 4096);

        public Limits {
            if (maxThreads < 8 || anonymousReaders < 1 || readersPerParticipant < 1 || anonymousReaders >= maxThreads / 2
                    || idleTimeoutMillis <= 0 || jsonDeadlineMillis <= 0 || graceMillis <= 0 || minBytesPerSecond <= 0) {
                throw new IllegalArgumentException("limits out of range: " + this);
            }
        }
    }

    private final BodyReader bodies;
    private final Access access;

    private PlatformServer(PlatformService service, LongSupplier clock, String version, String host, int port, Tls tls,
                           Limits limits, Access.Settings settings) {
        this.service = service;
        this.clock = clock;
        this.version = version;
        this.scheme = tls == null ? "http" : "https";
        this.bodies = new BodyReader(limits);
        this.access = new Access(settings, service.store(), ctx -> authenticate(ctx, false), tls != null, clock);
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.http.maxRequestSize = MAX_JSON;
            cfg.jetty.host = host;
            cfg.jetty.threadPool = new QueuedThreadPool(limits.maxThreads(), Math.min(8, limits.maxThreads()),
                    60_000);
            cfg.jetty.addConnector((server, http) -> connector(server, http, host, port, tls, limits));
            cfg.jetty.port = -1;
            cfg.routes.before(ctx -> SecurityHeaders.apply(ctx, tls != null));
            // one check for the dashboard, status, round and dataset: participants and the operator only
            cfg.routes.before(access::check);
            // every route of the table (its method, path and roles) and no other: what /openapi.json documents
            Routes.Registration routes = new Routes.Registration(cfg.routes);
            routes.on(Routes.LOGIN, access::login);
            routes.on(Routes.DASHBOARD, ctx -> ctx.html(Dashboard.render(service.status(version))));
            routes.on(Routes.HEALTH, ctx -> json(ctx, 200, Health.ok(version)));
            routes.on(Routes.OPENAPI, this::openApi);
            routes.on(Routes.STATUS, ctx -> json(ctx, 200, service.status(version).withAccess(access.describe())));
            routes.on(Routes.ROUND, ctx -> json(ctx, 200, service.round()));
            routes.on(Routes.ENROLL, this::enroll);
            // signed routes: the one authentication handler below has checked the request and names the participant
            cfg.routes.beforeMatched(this::authenticateSigned);
            routes.on(Routes.SHARED_IMAGES, ctx -> file(ctx, service.sharedImages(who(ctx))));
            routes.on(Routes.UPLOAD_SHARED, ctx -> {
                String who = who(ctx);
                try (BodyReader.Body body = bodies.stream(ctx, who)) {
                    Accepted a = service.uploadShared(who, body, contentLength(ctx),
                            ctx.header(RequestSignature.CONTENT_SHA256));
                    json(ctx, a.created() ? 201 : 200, a);
                }
            });
            routes.on(Routes.LEASE, ctx -> {
                byte[] raw = ctx.attribute(BODY);
                // a client of before workers sends {} (or nothing): its one process is the participant's sole worker
                String worker = raw == null || raw.length == 0 ? null : leaseWorker(body(ctx, JsonNode.class));
                json(ctx, 200, service.lease(who(ctx), worker));
            });
            routes.on(Routes.RENEW, ctx -> {
                RenewRequest r = body(ctx, RenewRequest.class);
                json(ctx, 200, service.renew(who(ctx), r.shard(), r.token()));
            });
            routes.on(Routes.SHARD_IMAGES, ctx -> file(ctx, service.shardImages(who(ctx), shard(ctx))));
            routes.on(Routes.UPLOAD_SHARD, ctx -> {
                String who = who(ctx);
                String token = ctx.queryParam("token");
                if (token == null || token.isBlank() || token.length() > 200) {
                    throw new Refusal(Refusal.Kind.MALFORMED, "the upload needs ?token=LEASE_TOKEN");
                }
                try (BodyReader.Body body = bodies.stream(ctx, who)) {
                    Accepted a = service.uploadShard(who, shard(ctx), token, body, contentLength(ctx),
                            ctx.header(RequestSignature.CONTENT_SHA256));
                    json(ctx, a.created() ? 201 : 200, a);
                }
            });
            routes.on(Routes.AUDITS, ctx -> json(ctx, 200, new Audits(service.audits(who(ctx)))));
            routes.on(Routes.AUDIT_IMAGES, ctx -> file(ctx, service.auditImages(who(ctx), audit(ctx))));
            routes.on(Routes.ANSWER_AUDIT, ctx -> {
                String who = who(ctx);
                try (BodyReader.Body body = bodies.stream(ctx, who)) {
                    json(ctx, 200, service.answerAudit(who, audit(ctx), body, contentLength(ctx),
                            ctx.header(RequestSignature.CONTENT_SHA256)));
                }
            });
            routes.on(Routes.DATASET, ctx -> {
                int round = datasetRound(ctx);
                Optional<List<DatasetFile>> files = service.dataset(round);
                if (files.isEmpty()) {
                    throw new Refusal(Refusal.Kind.NOT_FOUND, service.datasetUnavailable(round).orElse("round " + round
                            + "'s fused dataset is not ready"));
                }
                json(ctx, 200, new DatasetListing(round, files.get()));
            });
            routes.on(Routes.DATASET_FILE, ctx -> {
                int round = datasetRound(ctx);
                Optional<Path> f = service.datasetFile(round, ctx.pathParam("file"));
                if (f.isEmpty()) {
                    throw new Refusal(Refusal.Kind.NOT_FOUND, service.datasetUnavailable(round)
                            .orElse("no such file in round " + round + "'s fused dataset"));
                }
                file(ctx, f.get());
            });
            routes.complete();
            cfg.routes.exception(Refusal.class, (e, ctx) -> {
                if (e.kind() == Refusal.Kind.BUSY) {
                    ctx.header("Retry-After", "1");
                }
                json(ctx, status(e.kind()), error(e.getMessage()));
            });
            cfg.routes.exception(RateLimiter.Limited.class, (e, ctx) -> {
                ctx.header("Retry-After", Long.toString(e.retryAfterSeconds()));
                json(ctx, 429, error(e.getMessage()));
            });
            cfg.routes.exception(UserException.class, (e, ctx) -> json(ctx, 400, error(e.getMessage())));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                if (BodyReader.slow(e)) {
                    json(ctx, 408, error("the request body arrived too slowly"));
                    return;
                }
                System.err.println("coopt platform: " + ctx.method() + " " + ctx.path() + " failed: " + e);
                json(ctx, 500, error("internal error"));
            });
            cfg.routes.error(404, ctx -> {
                if (ctx.result() == null) {
                    json(ctx, 404, error("no route " + ctx.method() + " " + ctx.path()));
                }
            });
            cfg.routes.error(405, ctx -> json(ctx, 405, error("method not allowed")));
        });
    }

    /**
     * Starts serving; returns when it accepts requests. The dashboard, status, round and dataset are for participants
     * and the operator, whose token is the platform directory's {@link OperatorToken#FILE} (made when missing).
     */
    public static PlatformServer start(PlatformService service, LongSupplier clock, String version, String host,
                                       int port, Tls tls) {
        return start(service, clock, version, host, port, tls, Limits.DEFAULT);
    }

    /** Starts serving under the given limits; returns when it accepts requests. */
    public static PlatformServer start(PlatformService service, LongSupplier clock, String version, String host,
                                       int port, Tls tls, Limits limits) {
        return start(service, clock, version, host, port, tls, limits,
                OperatorToken.loadOrCreate(service.dir()), false, false);
    }

    /**
     * Starts serving under the given limits, the operator holding {@code operatorToken}; {@code publicDashboard} opens
     * the dashboard and status to anyone, {@code publicDataset} the fused dataset.
     */
    public static PlatformServer start(PlatformService service, LongSupplier clock, String version, String host,
                                       int port, Tls tls, Limits limits, String operatorToken,
                                       boolean publicDashboard, boolean publicDataset) {
        Access.Settings settings = new Access.Settings(OperatorToken.hash(operatorToken), publicDashboard, publicDataset);
        PlatformServer s = new PlatformServer(service, clock, version, host, port, tls, limits, settings);
        s.app.start();
        service.startReferee();
        return s;
    }

    /** The URL it serves on (the bound port, even when 0 was asked for). */
    public String url(String host) {
        String h = host.contains(":") ? "[" + host + "]" : host;
        return scheme + "://" + h + ":" + app.port();
    }

    public int port() {
        return app.port();
    }

    private static Connector connector(org.eclipse.jetty.server.Server server, HttpConfiguration http, String host,
                                       int port, Tls tls, Limits limits) {
        ServerConnector connector = tls == null ? new ServerConnector(server, new HttpConnectionFactory(http))
                : tlsConnector(server, http, tls);
        connector.setHost(host);
        connector.setPort(port);
        connector.setIdleTimeout(limits.idleTimeoutMillis());
        return connector;
    }

    private static ServerConnector tlsConnector(org.eclipse.jetty.server.Server server, HttpConfiguration http, Tls tls) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStorePath(tls.keystore().toAbsolutePath().toString());
        ssl.setKeyStoreType("PKCS12");
        ssl.setKeyStorePassword(new String(tls.password()));
        ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        ssl.setIncludeCipherSuites(SecurityHeaders.AEAD_SUITES);
        HttpConfiguration https = new HttpConfiguration(http);
        SecureRequestCustomizer src = new SecureRequestCustomizer();
        src.setSniHostCheck(false);
        https.addCustomizer(src);
        return new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
    }

    /** Which of the participant's processes asks for a lease ({@code "worker"}: its own name for itself), or null. */
    private static String leaseWorker(JsonNode body) throws Refusal {
        JsonNode w = body.path("worker");
        if (!body.isObject() || !(w.isMissingNode() || w.isNull() || w.isTextual())) {
            throw new Refusal(Refusal.Kind.MALFORMED, "a lease request is {} or {\"worker\": NAME}");
        }
        return w.isTextual() ? w.asText() : null;
    }

    private void enroll(Context ctx) throws Refusal {
        // headers and timestamp first: a request that cannot be authentic costs no body read
        RequestSignature.SignedHeaders h = signedHeaders(ctx);
        Optional<String> stale = signatures.checkWindow(h, clock.getAsLong());
        if (stale.isPresent()) {
            throw new Refusal(Refusal.Kind.UNAUTHENTICATED, stale.get());
        }
        byte[] body = bodies.readSmall(ctx, MAX_ENROLL, null);
        EnrollRequest r = parse(body, EnrollRequest.class);
        if (r.invite() == null || r.publicKey() == null || r.invite().length() > 200) {
            throw new Refusal(Refusal.Kind.MALFORMED, "enrolment needs invite and public_key");
        }
        byte[] key = Ed25519Keys.decodeRawPublicKey(r.publicKey());
        if (key == null) {
            throw new Refusal(Refusal.Kind.MALFORMED, "public_key is not a base64 Ed25519 public key of 32 bytes");
        }
        // the request must be signed by the key being registered: proof that the caller holds its private half
        if (!h.participantId().equals(Ed25519Keys.participantId(key))) {
            throw new Refusal(Refusal.Kind.UNAUTHENTICATED, RequestSignature.PARTICIPANT + " is not the id of public_key");
        }
        Optional<String> badBody = RequestSignature.checkBody(h, Sha256.hex(body));
        if (badBody.isPresent()) {
            throw new Refusal(Refusal.Kind.MALFORMED, badBody.get());
        }
        Optional<String> bad = signatures.verify(key, h, "POST", pathWithQuery(ctx), clock.getAsLong());
        if (bad.isPresent()) {
            throw new Refusal(Refusal.Kind.UNAUTHENTICATED, bad.get());
        }
        Redemption result = service.store().participants().redeemInvite(r.invite(), r.publicKey(), clock.getAsLong());
        if (result instanceof Redemption.Refused refused) {
            Redemption.Reason reason = refused.reason();
            Refusal.Kind kind = reason == Redemption.Reason.KEY_REGISTERED || reason == Redemption.Reason.NAME_TAKEN
                    ? Refusal.Kind.CONFLICT : reason == Redemption.Reason.MALFORMED_KEY ? Refusal.Kind.MALFORMED
                    : Refusal.Kind.UNAUTHENTICATED;
            throw new Refusal(kind, reason.message);
        }
        Participant p = ((Redemption.Enrolled) result).participant();
        json(ctx, 201, new Enrolled(p.id(), p.name()));
    }

    /** The one place a refusal's kind becomes an HTTP status. */
    static int status(Refusal.Kind kind) {
        return switch (kind) {
            case MALFORMED -> 400;
            case UNAUTHENTICATED -> 401;
            case FORBIDDEN -> 403;
            case NOT_FOUND -> 404;
            case TOO_SLOW -> 408;
            case CONFLICT -> 409;
            case NO_LENGTH -> 411;
            case TOO_LARGE -> 413;
            case OUT_OF_RANGE -> 416;
            case UNACCEPTABLE -> 422;
            case BUSY -> 503;
        };
    }

    private static RequestSignature.SignedHeaders signedHeaders(Context ctx) throws Refusal {
        RequestSignature.Parsed parsed = RequestSignature.parse(ctx::header);
        if (parsed instanceof RequestSignature.Refused r) {
            throw new Refusal(Refusal.Kind.UNAUTHENTICATED, r.reason());
        }
        return (RequestSignature.SignedHeaders) parsed;
    }

    /**
     * The routes a participant's signed request reaches (Javalin route roles): the one authentication handler,
     * {@link #authenticateSigned}, checks them before their handler runs.
     */
    enum Signed implements RouteRole {
        /** A small JSON body, if any, read and checked against the signed sha256 before the handler runs. */
        BODY_READ_HERE,
        /** The handler streams the body itself and checks its sha256 against the signed one. */
        BODY_STREAMED
    }

    /** The before-handler of every matched route: a signed route's request is authenticated, its sender recorded. */
    private void authenticateSigned(Context ctx) throws Refusal {
        Set<RouteRole> roles = ctx.routeRoles();
        if (roles.contains(Signed.BODY_READ_HERE) || roles.contains(Signed.BODY_STREAMED)) {
            ctx.attribute(WHO, authenticate(ctx, roles.contains(Signed.BODY_STREAMED)));
        }
    }

    /** The participant who signed this request (a signed route's handler only). */
    private static String who(Context ctx) {
        String who = ctx.attribute(WHO);
        if (who == null) {
            throw new IllegalStateException(ctx.path() + " reads the signer but is not a signed route");
        }
        return who;
    }

    /**
     * Checks a signed request: a registered participant, a fresh timestamp, a valid signature, not seen before;
     * for a body read here (not streamed), its sha256 too. Returns the participant's id.
     *
     * @param streamedBody whether the route reads the body itself (and checks its sha256 against the signed one)
     */
    private String authenticate(Context ctx, boolean streamedBody) throws Refusal {
        RequestSignature.SignedHeaders h = signedHeaders(ctx);
        Optional<Participant> p = service.store().participants().get(h.participantId());
        if (p.isEmpty()) {
            throw new Refusal(Refusal.Kind.UNAUTHENTICATED, "unknown participant " + h.participantId() + " (enrol with an invite first)");
        }
        long now = clock.getAsLong();
        String method = ctx.method().name();
        String path = pathWithQuery(ctx);
        // the signature covers the declared body hash, so it is checked before a byte of the body is read
        Optional<String> bad = signatures.verify(Ed25519Keys.decodeRawPublicKey(p.get().publicKey()), h, method, path, now);
        if (bad.isPresent()) {
            throw new Refusal(Refusal.Kind.UNAUTHENTICATED, bad.get());
        }
        if (!streamedBody) {
            byte[] body = bodies.readSmall(ctx, MAX_JSON, h.participantId());
            Optional<String> wrong = RequestSignature.checkBody(h, Sha256.hex(body));
            if (wrong.isPresent()) {
                throw new Refusal(Refusal.Kind.MALFORMED, wrong.get());
            }
            ctx.attribute(BODY, body);
        }
        if (!service.store().signatures().record(h.participantId(), h.replayKey(method, path), h.timestamp(), now,
                signatures.windowMillis())) {
            throw new Refusal(Refusal.Kind.UNAUTHENTICATED, "replayed request: this request was already received");
        }
        return h.participantId();
    }

    private static String pathWithQuery(Context ctx) {
        String q = ctx.queryString();
        return q == null || q.isEmpty() ? ctx.path() : ctx.path() + "?" + q;
    }

    private static int shard(Context ctx) throws Refusal {
        long k = number(ctx, "shard");
        if (k != (int) k) {
            throw new Refusal(Refusal.Kind.NOT_FOUND, "no shard " + k);
        }
        return (int) k;
    }

    private static long audit(Context ctx) throws Refusal {
        return number(ctx, "audit");
    }

    /** The path parameter {@code name} as a number; a 404 naming what was asked for when it is none. */
    private static long number(Context ctx, String name) throws Refusal {
        String s = ctx.pathParam(name);
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new Refusal(Refusal.Kind.NOT_FOUND, "no " + name + " " + (s.length() > 20 ? s.substring(0, 20) : s));
        }
    }

    /**
     * The round whose dataset {@code ?round=N} asks for; without it the newest finished round (a 404 when none is). A
     * value that is not a round number is a 400.
     */
    private int datasetRound(Context ctx) throws Refusal {
        String asked = ctx.queryParam("round");
        if (asked == null) {
            return service.newestFinishedRound().orElseThrow(() -> new Refusal(Refusal.Kind.NOT_FOUND,
                    "the fused dataset is not ready (fusion: " + service.store().fusion().state().state().name()
                            .toLowerCase(Locale.ROOT) + ")"));
        }
        if (!asked.matches("[1-9][0-9]{0,8}")) {
            throw new Refusal(Refusal.Kind.MALFORMED, "round must be a round number (1, 2, ...), not '"
                    + (asked.length() > 20 ? asked.substring(0, 20) + "..." : asked) + "'");
        }
        return Integer.parseInt(asked);
    }

    private static long contentLength(Context ctx) {
        return ctx.req().getContentLengthLong();
    }

    /** The JSON body {@link #authenticate} read and checked against the signed hash. */
    private static <T> T body(Context ctx, Class<T> type) throws Refusal {
        byte[] body = ctx.attribute(BODY);
        if (body == null) {
            throw new IllegalStateException("the route reads its body before authenticating");
        }
        return parse(body, type);
    }

    private static <T> T parse(byte[] body, Class<T> type) throws Refusal {
        try {
            return Json.mapper().readValue(body, type);
        } catch (IOException | IllegalArgumentException e) {
            throw new Refusal(Refusal.Kind.MALFORMED, "malformed JSON body for " + type.getSimpleName().replace("Request", "")
                    .toLowerCase() + " request");
        }
    }

    private void openApi(Context ctx) {
        ctx.contentType("application/json").result(openApi);
    }

    /** The HTTP routes Javalin holds, as "METHOD path" (not the before- and after-handlers): for the tests. */
    List<String> registeredRoutes() {
        return app.unsafe.internalRouter.allHttpHandlers().stream().map(e -> e.endpoint)
                .filter(e -> e.method.isHttpMethod()).map(e -> e.method.name() + " " + e.path).toList();
    }

    private static void file(Context ctx, Path file) throws IOException, Refusal {
        FileResponse.send(ctx, file);
    }

    private static void json(Context ctx, int status, Object value) {
        try {
            ctx.status(status).contentType("application/json").result(Json.mapper().writeValueAsBytes(value));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> error(String reason) {
        return Map.of("error", reason == null ? "refused" : reason);
    }

    @Override
    public void close() {
        app.stop();
        bodies.close();
    }
}
