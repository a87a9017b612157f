package ai.coopt.platform.server;

import ai.coopt.UserException;
import ai.coopt.platform.auth.OperatorToken;
import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The platform's HTTP service (Javalin on Jetty): the read-only pages and JSON for participants and the operator
 * ({@link Access}; anyone may fetch {@code /health} and {@code /openapi.json}), and the routes a registered participant
 * calls with requests signed by its Ed25519 key. Every refusal is a 4xx with
 * {@code {"error": reason}}; nothing a request sends is trusted before it is checked. This class sets the server up
 * (Jetty, TLS, limits, the filters in order) and maps refusals to HTTP ({@link #status}); {@link Authentication} says
 * who sent a request, {@link Endpoints} handles each route.
 */
public final class PlatformServer implements AutoCloseable {
    /** The largest JSON body a route reads (enrolment, renewals). */
    static final int MAX_JSON = 64 << 10;
    /** How far a request's timestamp may be from the platform's clock. */
    public static final long WINDOW_MILLIS = 60_000;

    private final Javalin app;
    private final String scheme;
    private final BodyReader bodies;

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

    private PlatformServer(PlatformService service, LongSupplier clock, String version, String host, int port, Tls tls,
                           Limits limits, Access.Settings settings) {
        this.scheme = tls == null ? "http" : "https";
        this.bodies = new BodyReader(limits);
        Authentication auth = new Authentication(service, clock, bodies);
        Access access = new Access(settings, service.store(), ctx -> auth.authenticate(ctx, false), tls != null, clock);
        Endpoints endpoints = new Endpoints(service, clock, version, bodies, auth, access);
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.http.maxRequestSize = MAX_JSON;
            cfg.jetty.host = host;
            cfg.jetty.threadPool = new QueuedThreadPool(limits.maxThreads(), Math.min(8, limits.maxThreads()),
                    60_000);
            cfg.jetty.addConnector((server, http) -> connector(server, http, host, port, tls, limits));
            cfg.jetty.port = -1;
            // an enrolment's body arrives whole before a thread reads it: slow strangers cannot hold the readers
            cfg.jetty.modifyServer(server -> server.setHandler(new WholeBodies(Authentication.MAX_ENROLL,
                    limits.jsonDeadlineMillis(), tls != null, Routes.ENROLL.path())));
            cfg.routes.before(ctx -> SecurityHeaders.apply(ctx, tls != null));
            // one check for the dashboard, status, round and dataset: participants and the operator only
            cfg.routes.before(access::check);
            // the one authentication handler: a signed route's request is checked, its sender recorded
            cfg.routes.beforeMatched(auth::authenticateSigned);
            // every route of the table (its method, path and roles) and no other: what /openapi.json documents
            Routes.Registration routes = new Routes.Registration(cfg.routes);
            endpoints.register(routes);
            routes.complete();
            refusals(cfg.routes);
        });
    }

    /** Maps what a handler throws to its answer: a refusal by {@link #status}, anything unforeseen to a 500. */
    private static void refusals(RoutesConfig routes) {
        routes.exception(Refusal.class, (e, ctx) -> {
            if (e.kind() == Refusal.Kind.BUSY) {
                ctx.header("Retry-After", "1");
            }
            Endpoints.json(ctx, status(e.kind()), error(e.getMessage()));
        });
        routes.exception(RateLimiter.Limited.class, (e, ctx) -> {
            ctx.header("Retry-After", Long.toString(e.retryAfterSeconds()));
            Endpoints.json(ctx, 429, error(e.getMessage()));
        });
        routes.exception(UserException.class, (e, ctx) -> Endpoints.json(ctx, 400, error(e.getMessage())));
        routes.exception(Exception.class, (e, ctx) -> {
            if (BodyReader.slow(e)) {
                Endpoints.json(ctx, 408, error("the request body arrived too slowly"));
                return;
            }
            System.err.println("coopt platform: " + ctx.method() + " " + ctx.path() + " failed: " + e);
            Endpoints.json(ctx, 500, error("internal error"));
        });
        routes.error(404, ctx -> {
            if (ctx.result() == null) {
                Endpoints.json(ctx, 404, error("no route " + ctx.method() + " " + ctx.path()));
            }
        });
        routes.error(405, ctx -> Endpoints.json(ctx, 405, error("method not allowed")));
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

    /** The HTTP routes Javalin holds, as "METHOD path" (not the before- and after-handlers): for the tests. */
    List<String> registeredRoutes() {
        return app.unsafe.internalRouter.allHttpHandlers().stream().map(e -> e.endpoint)
                .filter(e -> e.method.isHttpMethod()).map(e -> e.method.name() + " " + e.path).toList();
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
