package ai.coopt.platform.server;

import ai.coopt.platform.api.EnrollRequest;
import ai.coopt.platform.auth.Ed25519Keys;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.auth.Sha256;
import ai.coopt.platform.db.Participant;
import ai.coopt.store.Json;
import io.javalin.http.Context;
import io.javalin.security.RouteRole;

import java.io.IOException;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Who sent a request. A participant's signed request (a route of role {@link Signed}) is checked by one before-handler,
 * {@link #authenticateSigned}: a registered participant, a fresh timestamp, a valid signature, not seen before, and for
 * a small body its sha256; the sender is recorded for the handler ({@link #who}). An enrolment is checked against the
 * key it registers ({@link #enrolment}).
 */
final class Authentication {
    /** The largest enrolment body (an invite of at most 200 characters and a 44-character key, in JSON). */
    static final int MAX_ENROLL = 4 << 10;
    /** The context attribute holding a JSON body read by {@link #authenticate}. */
    private static final String BODY = "coopt.body";
    /** The request attribute that names the participant who signed the request. */
    private static final String WHO = "coopt.participant";

    private final PlatformService service;
    private final RequestSignature signatures = new RequestSignature(PlatformServer.WINDOW_MILLIS);
    private final LongSupplier clock;
    private final BodyReader bodies;

    Authentication(PlatformService service, LongSupplier clock, BodyReader bodies) {
        this.service = service;
        this.clock = clock;
        this.bodies = bodies;
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
    void authenticateSigned(Context ctx) throws Refusal {
        Set<RouteRole> roles = ctx.routeRoles();
        if (roles.contains(Signed.BODY_READ_HERE) || roles.contains(Signed.BODY_STREAMED)) {
            ctx.attribute(WHO, authenticate(ctx, roles.contains(Signed.BODY_STREAMED)));
        }
    }

    /** The participant who signed this request (a signed route's handler only). */
    static String who(Context ctx) {
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
    String authenticate(Context ctx, boolean streamedBody) throws Refusal {
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
            byte[] body = bodies.readSmall(ctx, PlatformServer.MAX_JSON, h.participantId());
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

    /**
     * An enrolment request, read and checked: well formed, and signed by the key it registers (proof that the caller
     * holds its private half). Whether its invite is good is the store's to say.
     */
    EnrollRequest enrolment(Context ctx) throws Refusal {
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
        return r;
    }

    /** The JSON body {@link #authenticate} read and checked against the signed hash, as sent (null when none). */
    static byte[] rawBody(Context ctx) {
        return ctx.attribute(BODY);
    }

    /** The JSON body {@link #authenticate} read and checked against the signed hash. */
    static <T> T body(Context ctx, Class<T> type) throws Refusal {
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

    private static RequestSignature.SignedHeaders signedHeaders(Context ctx) throws Refusal {
        RequestSignature.Parsed parsed = RequestSignature.parse(ctx::header);
        if (parsed instanceof RequestSignature.Refused r) {
            throw new Refusal(Refusal.Kind.UNAUTHENTICATED, r.reason());
        }
        return (RequestSignature.SignedHeaders) parsed;
    }

    private static String pathWithQuery(Context ctx) {
        String q = ctx.queryString();
        return q == null || q.isEmpty() ? ctx.path() : ctx.path() + "?" + q;
    }
}
