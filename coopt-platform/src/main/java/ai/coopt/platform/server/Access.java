package ai.coopt.platform.server;

import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.db.Participant;
import ai.coopt.platform.db.PlatformStore;
import io.javalin.http.Context;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Who may read the dashboard ({@code /}), {@code /v1/status}, {@code /v1/round} and the fused dataset
 * ({@code /v1/dataset[/FILE]}): an enrolled participant in good standing (a signed request, checked as on every
 * signed route; a quarantined one gets a 403), and the operator (its bearer token, or a session cookie set by
 * {@code GET /login?token=…}). {@code serve --public-dashboard} opens the dashboard and status to anyone,
 * {@code --public-dataset} the dataset; {@code /v1/round} (the shared ids and the seed) is never public. One check,
 * run before every route, so that no protected route can forget it.
 */
final class Access {
    /** The session cookie's name. */
    static final String COOKIE = "coopt_session";
    /** A session lasts this long. */
    static final long SESSION_MILLIS = 12 * 3_600_000L;
    /** At most this many sessions are kept; the oldest goes first. */
    static final int MAX_SESSIONS = 256;
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * What is protected and by what.
     *
     * @param operatorTokenHash the sha256 of the operator's token (the token itself is not kept)
     * @param publicDashboard   {@code /} and {@code /v1/status} are open to anyone
     * @param publicDataset     {@code /v1/dataset[/FILE]} is open to anyone
     */
    record Settings(byte[] operatorTokenHash, boolean publicDashboard, boolean publicDataset) {
        Settings {
            if (operatorTokenHash == null || operatorTokenHash.length != 32) {
                throw new IllegalArgumentException("the operator token's sha256 is needed");
            }
        }
    }

    /** Checks a signed request (as the signed routes do) and returns its participant's id. */
    interface Authenticator {
        String authenticate(Context ctx) throws Refusal;
    }

    private enum Kind { DASHBOARD, DATASET, ROUND }

    private final Settings settings;
    private final PlatformStore store;
    private final Authenticator participants;
    private final boolean tls;
    private final LongSupplier clock;
    /** Session id → when it expires. */
    private final Map<String, Long> sessions = new ConcurrentHashMap<>();

    Access(Settings settings, PlatformStore store, Authenticator participants, boolean tls, LongSupplier clock) {
        this.settings = settings;
        this.store = store;
        this.participants = participants;
        this.tls = tls;
        this.clock = clock;
    }

    /** What {@code /v1/status} reports under {@code access}: who may read what. */
    Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        String closed = "participants and operator";
        m.put("dashboard", settings.publicDashboard() ? "public" : closed);
        m.put("dataset", settings.publicDataset() ? "public" : closed);
        m.put("round", closed);
        return m;
    }

    /** The before-handler: refuses (401, or 403 for a quarantined participant) a request it may not make. */
    void check(Context ctx) throws Refusal {
        Kind kind = kind(ctx.path());
        if (kind == null || kind == Kind.DASHBOARD && settings.publicDashboard()
                || kind == Kind.DATASET && settings.publicDataset()) {
            return;
        }
        String authorization = ctx.header("Authorization");
        if (authorization != null) {
            if (!authorization.startsWith("Bearer ")
                    || !OperatorToken.matches(settings.operatorTokenHash(), authorization.substring(7).strip())) {
                throw new Refusal(Refusal.Kind.UNAUTHENTICATED, "wrong operator token (Authorization: Bearer TOKEN, the token in "
                        + "the platform directory's " + OperatorToken.FILE + ")");
            }
            return;
        }
        if (ctx.header(RequestSignature.PARTICIPANT) != null) {
            refuseQuarantined(store, participants.authenticate(ctx));
            return;
        }
        String session = ctx.cookie(COOKIE);
        if (session != null && valid(session)) {
            return;
        }
        throw new Refusal(Refusal.Kind.UNAUTHENTICATED, ctx.path() + " is for enrolled participants (a signed request) and the "
                + "operator (Authorization: Bearer TOKEN, or log in at /login?token=TOKEN with the token in the "
                + "platform directory's " + OperatorToken.FILE + ")"
                + (session != null ? "; the session has expired: log in again" : ""));
    }

    /** Refuses a quarantined participant, with the reason: it gets nothing more from the platform. */
    static void refuseQuarantined(PlatformStore store, String participant) throws Refusal {
        Optional<Participant> p = store.participants().get(participant);
        if (p.isPresent() && p.get().quarantined()) {
            throw new Refusal(Refusal.Kind.FORBIDDEN, "you are quarantined: " + p.get().quarantineReason());
        }
    }

    /** {@code GET /login?token=…}: a session cookie for the operator's browser, then back to the dashboard. */
    void login(Context ctx) throws Refusal {
        if (!OperatorToken.matches(settings.operatorTokenHash(), ctx.queryParam("token"))) {
            throw new Refusal(Refusal.Kind.UNAUTHENTICATED, "login needs ?token= the operator token (the platform directory's "
                    + OperatorToken.FILE + ")");
        }
        String id = newSession();
        ctx.header("Set-Cookie", COOKIE + "=" + id + "; Path=/; Max-Age=" + SESSION_MILLIS / 1000
                + "; HttpOnly; SameSite=Strict" + (tls ? "; Secure" : ""));
        ctx.header("Cache-Control", "no-store");
        // away from the address bar (and the history) that holds the token
        ctx.status(303).header("Location", "/");
    }

    private String newSession() {
        long now = clock.getAsLong();
        if (sessions.size() >= MAX_SESSIONS) {
            sessions.values().removeIf(expires -> expires <= now);
            while (sessions.size() >= MAX_SESSIONS) {
                sessions.entrySet().stream().min(Map.Entry.comparingByValue())
                        .ifPresent(oldest -> sessions.remove(oldest.getKey()));
            }
        }
        byte[] bits = new byte[32];
        RANDOM.nextBytes(bits);
        String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
        sessions.put(id, now + SESSION_MILLIS);
        return id;
    }

    private boolean valid(String session) {
        Long expires = sessions.get(session);
        if (expires == null) {
            return false;
        }
        if (expires <= clock.getAsLong()) {
            sessions.remove(session);
            return false;
        }
        return true;
    }

    /** The protected class {@code path} is in (trailing slashes ignored, as the router does), or null. */
    private static Kind kind(String path) {
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.equals("/") || p.isEmpty() || p.equals("/v1/status")) {
            return Kind.DASHBOARD;
        }
        if (p.equals("/v1/dataset") || p.startsWith("/v1/dataset/")) {
            return Kind.DATASET;
        }
        if (p.equals("/v1/round")) {
            return Kind.ROUND;
        }
        return null;
    }
}
