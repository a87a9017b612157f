package ai.coopt.platform.server;

import ai.coopt.platform.api.Accepted;
import ai.coopt.platform.api.Audits;
import ai.coopt.platform.api.DatasetFile;
import ai.coopt.platform.api.DatasetListing;
import ai.coopt.platform.api.EnrollRequest;
import ai.coopt.platform.api.Enrolled;
import ai.coopt.platform.api.Health;
import ai.coopt.platform.api.RenewRequest;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.db.Participant;
import ai.coopt.platform.db.Redemption;
import ai.coopt.store.Json;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.LongSupplier;

import static ai.coopt.platform.server.Authentication.body;
import static ai.coopt.platform.server.Authentication.who;

/**
 * The handlers of the platform's routes ({@link Routes}), each registered here: a handler reads what its request names
 * (path and query parameters, the body {@link Authentication} checked), asks the {@link PlatformService}, and answers
 * with JSON or a file. A handler refuses by throwing a {@link Refusal}, which {@link PlatformServer} maps to HTTP.
 */
final class Endpoints {
    private final PlatformService service;
    private final LongSupplier clock;
    private final String version;
    private final BodyReader bodies;
    private final Authentication auth;
    private final Access access;
    /** This server's OpenAPI document, made from the routes it registers ({@link OpenApi}). */
    private final byte[] openApi = OpenApi.json();

    Endpoints(PlatformService service, LongSupplier clock, String version, BodyReader bodies, Authentication auth,
              Access access) {
        this.service = service;
        this.clock = clock;
        this.version = version;
        this.bodies = bodies;
        this.auth = auth;
        this.access = access;
    }

    /** Registers every route of the table, each with its handler (a signed route's request is checked before it). */
    void register(Routes.Registration routes) {
        routes.on(Routes.LOGIN, access::login);
        routes.on(Routes.DASHBOARD, ctx -> ctx.html(Dashboard.render(service.status(version))));
        routes.on(Routes.HEALTH, ctx -> json(ctx, 200, Health.ok(version)));
        routes.on(Routes.OPENAPI, ctx -> ctx.contentType("application/json").result(openApi));
        routes.on(Routes.STATUS, ctx -> json(ctx, 200, service.status(version).withAccess(access.describe())));
        routes.on(Routes.ROUND, ctx -> json(ctx, 200, service.round()));
        routes.on(Routes.ENROLL, this::enroll);
        // signed routes: the one authentication handler has checked the request and names the participant
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
            byte[] raw = Authentication.rawBody(ctx);
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
    }

    private void enroll(Context ctx) throws Refusal {
        EnrollRequest r = auth.enrolment(ctx);
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

    /** Which of the participant's processes asks for a lease ({@code "worker"}: its own name for itself), or null. */
    private static String leaseWorker(JsonNode body) throws Refusal {
        JsonNode w = body.path("worker");
        if (!body.isObject() || !(w.isMissingNode() || w.isNull() || w.isTextual())) {
            throw new Refusal(Refusal.Kind.MALFORMED, "a lease request is {} or {\"worker\": NAME}");
        }
        return w.isTextual() ? w.asText() : null;
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

    private static void file(Context ctx, Path file) throws IOException, Refusal {
        FileResponse.send(ctx, file);
    }

    /** Answers with {@code value} as JSON. */
    static void json(Context ctx, int status, Object value) {
        try {
            ctx.status(status).contentType("application/json").result(Json.mapper().writeValueAsBytes(value));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
