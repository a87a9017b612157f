package ai.coopt.platform.server;

import io.javalin.http.HandlerType;
import io.javalin.security.RouteRole;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One route the platform serves: the method and path {@link PlatformServer} registers its handler under (with the
 * route roles its signature check reads), and what {@link OpenApi} says of it: who may call it, its parameters, body,
 * answers and refusals. The table of every route is {@link Routes}; the server and the document both read it, so
 * that they cannot diverge. Built once, in {@link Routes}'s static initialiser, and not changed after.
 */
final class Route {
    /** Who may call a route; {@code tag} groups the routes in the document. */
    enum Caller {
        /** Anyone: no credential. */
        ANYONE("public"),
        /** Enrolled participants in good standing (a signed request) and the operator (token or session): {@link Access}. */
        READER("read"),
        /** A registered participant, by a request signed with its key ({@link Authentication.Signed}). */
        PARTICIPANT("participant"),
        /** A new participant, by a request signed with the key it enrols (its handler checks the signature). */
        NEWCOMER("participant");

        final String tag;

        Caller(String tag) {
            this.tag = tag;
        }

        /** Whether a request carries the participant's signature headers. */
        boolean signs() {
            return this == PARTICIPANT || this == NEWCOMER;
        }
    }

    /** A path or query parameter; {@code schema} is its JSON schema, in order. */
    record Param(String name, String in, boolean required, String description, Map<String, Object> schema) {
        /** A parameter whose schema is the name-value pairs {@code schema}. */
        static Param of(String name, String in, boolean required, String description, Object... schema) {
            Map<String, Object> s = new LinkedHashMap<>();
            for (int i = 0; i < schema.length; i += 2) {
                s.put((String) schema[i], schema[i + 1]);
            }
            return new Param(name, in, required, description, Collections.unmodifiableMap(s));
        }
    }

    /**
     * An answer: {@code media} the content type (null: none), {@code record} the wire record of a JSON answer (null:
     * any JSON object, or a file or page), {@code headers} header name to description.
     */
    record Answer(String description, String media, Class<?> record, Map<String, String> headers) {}

    /** The request body: a JSON record, or a file streamed (application/octet-stream). */
    record Body(String description, Class<?> record, boolean required) {
        boolean streamed() {
            return record == null;
        }
    }

    private static final Pattern TEMPLATE = Pattern.compile("\\{([a-z]+)}");

    private final HandlerType method;
    private final String path;
    private final Caller caller;
    private final String operationId;
    private final String summary;
    private String description;
    private Body body;
    private final List<Param> params = new ArrayList<>();
    private final Map<Integer, Answer> answers = new LinkedHashMap<>();
    private final Set<Refusal.Kind> refusals = EnumSet.noneOf(Refusal.Kind.class);
    private boolean rateLimited;
    private boolean file;

    private Route(HandlerType method, String path, Caller caller, String operationId, String summary) {
        this.method = method;
        this.path = path;
        this.caller = caller;
        this.operationId = operationId;
        this.summary = summary;
    }

    static Route get(String path, Caller caller, String operationId, String summary) {
        return new Route(HandlerType.GET, path, caller, operationId, summary);
    }

    static Route post(String path, Caller caller, String operationId, String summary) {
        return new Route(HandlerType.POST, path, caller, operationId, summary);
    }

    Route description(String text) {
        this.description = text;
        return this;
    }

    Route param(Param p) {
        params.add(p);
        return this;
    }

    /** A JSON body read into {@code record} (signed routes: read and checked before the handler runs). */
    Route json(Class<?> record, boolean required, String description) {
        this.body = new Body(description, record, required);
        return this;
    }

    /** A body the handler streams itself (an upload), checked against the signed sha256 as it arrives. */
    Route streams(String description) {
        this.body = new Body(description, null, true);
        return this;
    }

    /** Answers {@code code} with the JSON of {@code record} (null: any JSON object). */
    Route answers(int code, String description, Class<?> record) {
        answers.put(code, new Answer(description, "application/json", record, Map.of()));
        return this;
    }

    /** Answers a file, whole or one byte range (206), through {@link FileResponse}. */
    Route answersFile(String description) {
        answers.put(200, new Answer(description, "application/octet-stream", null, Map.of()));
        file = true;
        return refuses(Refusal.Kind.OUT_OF_RANGE);
    }

    Route answersPage(String description) {
        answers.put(200, new Answer(description, "text/html", null, Map.of()));
        return this;
    }

    /** Answers {@code code} with no body, setting {@code headers} (name → description). */
    Route answersEmpty(int code, String description, Map<String, String> headers) {
        answers.put(code, new Answer(description, null, null, headers));
        return this;
    }

    Route refuses(Refusal.Kind... kinds) {
        refusals.addAll(List.of(kinds));
        return this;
    }

    /** Counted against the participant's {@link RateLimiter} (429 over it). */
    Route rateLimited() {
        this.rateLimited = true;
        return this;
    }

    HandlerType method() {
        return method;
    }

    String path() {
        return path;
    }

    Caller caller() {
        return caller;
    }

    String operationId() {
        return operationId;
    }

    String summary() {
        return summary;
    }

    /** The longer text, or null. */
    String description() {
        return description;
    }

    /** The body, or null for none. */
    Body body() {
        return body;
    }

    List<Param> params() {
        return Collections.unmodifiableList(params);
    }

    Map<Integer, Answer> answers() {
        return Collections.unmodifiableMap(answers);
    }

    /**
     * Every refusal the route may answer: those declared, and those that come with its caller and body (a signed
     * request may be unauthentic, or its body not the signed one, arrive too slowly, be too large or find every reader
     * busy; a protected read may come from a quarantined participant; a streamed body needs its length).
     */
    Set<Refusal.Kind> refusals() {
        Set<Refusal.Kind> all = EnumSet.copyOf(refusals);
        if (caller != Caller.ANYONE) {
            all.add(Refusal.Kind.UNAUTHENTICATED);
        }
        if (caller == Caller.READER) {
            all.add(Refusal.Kind.FORBIDDEN);
        }
        if (caller.signs()) {
            // a body whose sha256 is not the signed one is malformed
            all.addAll(List.of(Refusal.Kind.MALFORMED, Refusal.Kind.TOO_SLOW, Refusal.Kind.TOO_LARGE, Refusal.Kind.BUSY));
        }
        if (body != null && body.streamed()) {
            all.add(Refusal.Kind.NO_LENGTH);
        }
        return all;
    }

    boolean rateLimitedRoute() {
        return rateLimited;
    }

    /** Whether it answers a file (and so a byte range of it, 206). */
    boolean file() {
        return file;
    }

    /** The names in the path's {@code {…}} templates, in order. */
    List<String> pathParams() {
        List<String> names = new ArrayList<>();
        Matcher m = TEMPLATE.matcher(path);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** The route roles the server's signature check reads ({@link Authentication#authenticateSigned}). */
    RouteRole[] roles() {
        if (caller != Caller.PARTICIPANT) {
            return new RouteRole[0];
        }
        return new RouteRole[] {body != null && body.streamed() ? Authentication.Signed.BODY_STREAMED
                : Authentication.Signed.BODY_READ_HERE};
    }

    @Override
    public String toString() {
        return method + " " + path;
    }
}
