package ai.coopt.platform.server;

import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.store.Json;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The platform's OpenAPI 3.0.3 document ({@code GET /openapi.json}), made from the table of routes the server
 * registers ({@link Routes}) and the wire records it writes and reads ({@link JsonSchemas}); nothing of it is written
 * by hand but the words. {@link #main} writes it to a file, for an independent linter.
 */
public final class OpenApi {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** The participant's signature: four headers, all required together (one security requirement). */
    static final Map<String, String> SIGNATURE_SCHEMES = signatureSchemes();

    private OpenApi() {}

    /** The document as JSON bytes (made once, when first asked for). */
    static byte[] json() {
        return Document.BYTES.clone();
    }

    private static final class Document {
        static final byte[] BYTES = write(build());
    }

    /** Writes the document to {@code args[0]} (the build's {@code target/openapi.json}, which CI lints). */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: OpenApi FILE");
        }
        Path out = Path.of(args[0]);
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        Files.write(out, Document.BYTES);
    }

    private static Map<String, String> signatureSchemes() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("participantId", RequestSignature.PARTICIPANT);
        m.put("participantTimestamp", RequestSignature.TIMESTAMP);
        m.put("participantContentSha256", RequestSignature.CONTENT_SHA256);
        m.put("participantSignature", RequestSignature.SIGNATURE);
        return Collections.unmodifiableMap(m);
    }

    private static byte[] write(ObjectNode doc) {
        try {
            // indented, "name": value (not Jackson's default "name" : value)
            Separators separators = Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER);
            return Json.mapper().writer(new DefaultPrettyPrinter(separators)).writeValueAsBytes(doc);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode build() {
        JsonSchemas schemas = new JsonSchemas();
        ObjectNode responses = NODES.objectNode();
        ObjectNode doc = NODES.objectNode().put("openapi", "3.0.3");
        ObjectNode info = doc.putObject("info").put("title", "CoOpt open data platform").put("version", "1")
                .put("description", DESCRIPTION);
        info.putObject("license").put("name", "Apache-2.0").put("url", "https://www.apache.org/licenses/LICENSE-2.0");
        doc.putArray("servers").addObject().put("url", "/")
                .put("description", "The platform serve runs (https with --tls-keystore)");
        ArrayNode tags = doc.putArray("tags");
        tags.addObject().put("name", Route.Caller.ANYONE.tag)
                .put("description", "For anyone: health, this document, and the operator's browser login");
        tags.addObject().put("name", Route.Caller.READER.tag).put("description", READ);
        tags.addObject().put("name", Route.Caller.PARTICIPANT.tag)
                .put("description", "Signed by a participant's Ed25519 key (enrolment: by the key it registers)");
        ObjectNode paths = doc.putObject("paths");
        for (Route r : Routes.ALL) {
            ObjectNode path = paths.has(r.path()) ? (ObjectNode) paths.get(r.path()) : paths.putObject(r.path());
            path.set(r.method().name().toLowerCase(Locale.ROOT), operation(r, schemas, responses));
        }
        ObjectNode components = doc.putObject("components");
        components.set("parameters", headerParameters());
        components.set("responses", responses);
        ObjectNode schemaNodes = components.putObject("schemas");
        schemaNodes.set("Error", errorSchema());
        schemas.components().forEach(schemaNodes::set);
        components.set("securitySchemes", securitySchemes());
        return doc;
    }

    private static ObjectNode operation(Route r, JsonSchemas schemas, ObjectNode responses) {
        ObjectNode op = NODES.objectNode();
        op.putArray("tags").add(r.caller().tag);
        op.put("operationId", r.operationId()).put("summary", r.summary());
        if (r.description() != null) {
            op.put("description", r.description());
        }
        op.set("security", security(r.caller()));
        List<String> inPath = r.params().stream().filter(p -> p.in().equals("path")).map(Route.Param::name).toList();
        if (!inPath.equals(r.pathParams())) {
            throw new IllegalStateException(r + " declares the path parameters " + inPath);
        }
        ArrayNode params = NODES.arrayNode();
        for (Route.Param p : r.params()) {
            ObjectNode param = params.addObject().put("name", p.name()).put("in", p.in()).put("required", p.required())
                    .put("description", p.description());
            param.set("schema", Json.mapper().valueToTree(p.schema()));
        }
        if (r.caller().signs()) {
            for (String header : List.of("Participant", "Timestamp", "ContentSha256", "Signature")) {
                params.addObject().put("$ref", "#/components/parameters/" + header);
            }
        }
        Route.Body body = r.body();
        if (body != null && body.streamed()) {
            params.addObject().put("$ref", "#/components/parameters/ContentLength");
        }
        if (!params.isEmpty()) {
            op.set("parameters", params);
        }
        if (body != null) {
            ObjectNode request = op.putObject("requestBody").put("required", body.required());
            if (body.description() != null) {
                request.put("description", body.description());
            }
            if (body.streamed()) {
                request.putObject("content").putObject("application/octet-stream").set("schema", binary());
            } else {
                request.putObject("content").putObject("application/json").set("schema", schemas.ref(body.record()));
            }
        }
        Map<Integer, ObjectNode> answers = new TreeMap<>();
        r.answers().forEach((code, a) -> answers.put(code, answer(a, schemas)));
        if (r.file()) {
            answers.put(206, shared(responses, "PartialContent", partialContent()));
        }
        for (Refusal.Kind kind : r.refusals()) {
            answers.put(PlatformServer.status(kind), shared(responses, refusalName(kind, r.caller()),
                    refusal(refusalText(kind, r.caller()), kind == Refusal.Kind.BUSY ? RETRY_AFTER : null)));
        }
        if (r.rateLimitedRoute()) {
            answers.put(429, shared(responses, "TooManyRequests", refusal("Over this participant's limit (refused "
                    + "uploads: 20, then one a minute; lease requests: 20, then 10 a second; renewals and audit calls: "
                    + "20, then 2 a second); try again after Retry-After seconds", RETRY_AFTER)));
        }
        ObjectNode responseNodes = op.putObject("responses");
        answers.forEach((code, a) -> responseNodes.set(Integer.toString(code), a));
        return op;
    }

    /** The security requirements of a caller: any one of them lets a request in; an empty list, anyone. */
    private static ArrayNode security(Route.Caller caller) {
        ArrayNode any = NODES.arrayNode();
        if (caller == Route.Caller.ANYONE) {
            return any;
        }
        ObjectNode signature = any.addObject();
        SIGNATURE_SCHEMES.keySet().forEach(scheme -> signature.putArray(scheme));
        if (caller == Route.Caller.READER) {
            any.addObject().putArray("operatorToken");
            any.addObject().putArray("operatorSession");
        }
        return any;
    }

    private static ObjectNode answer(Route.Answer a, JsonSchemas schemas) {
        ObjectNode node = NODES.objectNode().put("description", a.description());
        if (!a.headers().isEmpty()) {
            ObjectNode headers = node.putObject("headers");
            new TreeMap<>(a.headers()).forEach((name, text) -> headers.putObject(name).put("description", text)
                    .putObject("schema").put("type", "string"));
        }
        if (a.media() != null) {
            ObjectNode schema = switch (a.media()) {
                case "application/json" -> a.record() == null ? NODES.objectNode().put("type", "object")
                        : schemas.ref(a.record());
                case "text/html" -> NODES.objectNode().put("type", "string");
                default -> binary();
            };
            node.putObject("content").putObject(a.media()).set("schema", schema);
        }
        return node;
    }

    /** A reference to the shared response {@code name}, which joins {@code responses} as {@code response}. */
    private static ObjectNode shared(ObjectNode responses, String name, ObjectNode response) {
        if (!responses.has(name)) {
            responses.set(name, response);
        } else if (!responses.get(name).equals(response)) {
            throw new IllegalStateException("two responses named " + name);
        }
        return NODES.objectNode().put("$ref", "#/components/responses/" + name);
    }

    private static final String RETRY_AFTER = "Retry-After";

    /** A refusal: its reason as {@code {"error": …}}, and a Retry-After header when {@code header} says so. */
    private static ObjectNode refusal(String description, String header) {
        ObjectNode r = NODES.objectNode().put("description", description);
        if (header != null) {
            r.putObject("headers").putObject(header).put("description", "Seconds to wait")
                    .putObject("schema").put("type", "integer");
        }
        r.putObject("content").putObject("application/json").putObject("schema")
                .put("$ref", "#/components/schemas/Error");
        return r;
    }

    private static ObjectNode partialContent() {
        ObjectNode r = NODES.objectNode().put("description", "The bytes of the asked Range (bytes=FROM- or "
                + "bytes=FROM-TO); Content-Range names them and the file's size. Resume an interrupted download with it");
        r.putObject("headers").putObject("Content-Range").put("description", "bytes FROM-TO/SIZE")
                .putObject("schema").put("type", "string");
        r.putObject("content").putObject("application/octet-stream").set("schema", binary());
        return r;
    }

    /** The shared response's name of a refusal: a protected read's 401 and 403 say how to get in, or why not. */
    private static String refusalName(Refusal.Kind kind, Route.Caller caller) {
        if (caller == Route.Caller.READER && kind == Refusal.Kind.UNAUTHENTICATED) {
            return "NotLetIn";
        }
        if (caller == Route.Caller.READER && kind == Refusal.Kind.FORBIDDEN) {
            return "Quarantined";
        }
        return switch (kind) {
            case MALFORMED -> "BadRequest";
            case UNAUTHENTICATED -> "Unauthorized";
            case FORBIDDEN -> "Forbidden";
            case NOT_FOUND -> "NotFound";
            case TOO_SLOW -> "TooSlow";
            case CONFLICT -> "Conflict";
            case NO_LENGTH -> "LengthRequired";
            case TOO_LARGE -> "PayloadTooLarge";
            case OUT_OF_RANGE -> "RangeNotSatisfiable";
            case UNACCEPTABLE -> "Unprocessable";
            case BUSY -> "Busy";
        };
    }

    private static String refusalText(Refusal.Kind kind, Route.Caller caller) {
        if (caller == Route.Caller.READER && kind == Refusal.Kind.UNAUTHENTICATED) {
            return "Neither a participant's valid signed request nor the operator's token or session (a wrong token is "
                    + "refused too); the reason says how to get in";
        }
        if (caller == Route.Caller.READER && kind == Refusal.Kind.FORBIDDEN) {
            return "The participant is quarantined: it gets nothing more from the platform (the reason says why)";
        }
        return switch (kind) {
            case MALFORMED -> "Malformed: bad JSON, a parameter out of its range, not a safetensors file, a header that "
                    + "does not describe the body, a body whose sha256 is not the declared one";
            case UNAUTHENTICATED -> "Unsigned, unknown participant, bad signature, stale timestamp, replayed signature; "
                    + "for enrolment an invalid, used or expired invite; for the login a wrong operator token";
            case FORBIDDEN -> "The shard is leased to another participant, the caller no longer holds its lease, or the "
                    + "participant is quarantined (the reason says which)";
            case NOT_FOUND -> "No such shard, audit or file, or the fused dataset is not ready";
            case TOO_SLOW -> "The request body did not arrive in time (a JSON body whole within 10 s; an upload at 4 "
                    + "KiB/s or more after a 10 s grace); the connection is closed";
            case CONFLICT -> "Conflicts with what the platform holds: different content already accepted, a key "
                    + "already enrolled, outputs on S still missing, an audit already answered";
            case NO_LENGTH -> "The upload has no Content-Length";
            case TOO_LARGE -> "The body or a tensor is larger than the platform's caps";
            case OUT_OF_RANGE -> "The Range starts at or past the end of the file; Content-Range names its size";
            case UNACCEPTABLE -> "A well-formed upload with the wrong contents: dtype, shape, output width, ids not "
                    + "exactly the expected ones, a NaN or infinite value, a prior report that does not match";
            case BUSY -> "Too many requests are sending their bodies at once (16 before authentication, 4 per "
                    + "participant); try again after Retry-After seconds";
        };
    }

    private static ObjectNode binary() {
        return NODES.objectNode().put("type", "string").put("format", "binary");
    }

    /** The body of every refusal (4xx, and a 5xx): {@code {"error": reason}} ({@code PlatformServer.error}). */
    private static ObjectNode errorSchema() {
        ObjectNode error = NODES.objectNode().put("type", "object");
        error.putArray("required").add("error");
        error.putObject("properties").putObject("error").put("type", "string")
                .put("description", "Why the request was refused");
        return error;
    }

    private static ObjectNode headerParameters() {
        ObjectNode p = NODES.objectNode();
        header(p, "Participant", RequestSignature.PARTICIPANT, "The participant id that enrolment returned")
                .put("type", "string").put("maxLength", 100);
        header(p, "Timestamp", RequestSignature.TIMESTAMP, "When the request was signed, epoch milliseconds; refused "
                + "(401) more than " + PlatformServer.WINDOW_MILLIS / 1000 + " s from the platform's clock")
                .put("type", "integer").put("format", "int64");
        header(p, "ContentSha256", RequestSignature.CONTENT_SHA256, "Lowercase hex sha256 of the body's bytes (of zero "
                + "bytes when there is no body); checked against the body")
                .put("type", "string").put("pattern", "^[0-9a-f]{64}$");
        header(p, "Signature", RequestSignature.SIGNATURE, "Base64 Ed25519 signature over METHOD\\npath-with-query\\n"
                + "timestamp\\nbody-sha256 (UTF-8, newline-separated); each signature is accepted once (a replay is 401)")
                .put("type", "string").put("format", "byte");
        header(p, "ContentLength", "Content-Length", "Uploads must declare their length (411 without it); caps are "
                + "checked before the body is read (413)")
                .put("type", "integer").put("format", "int64").put("minimum", 0);
        return p;
    }

    /** Adds the required header parameter {@code name}; returns its schema to fill. */
    private static ObjectNode header(ObjectNode parameters, String component, String name, String description) {
        return parameters.putObject(component).put("name", name).put("in", "header").put("required", true)
                .put("description", description).putObject("schema");
    }

    private static ObjectNode securitySchemes() {
        ObjectNode s = NODES.objectNode();
        SIGNATURE_SCHEMES.forEach((scheme, header) -> s.putObject(scheme).put("type", "apiKey").put("in", "header")
                .put("name", header).put("description", "One of the four headers of a participant's signed request, "
                        + "which go together: " + String.join(", ", SIGNATURE_SCHEMES.values()) + " (see the "
                        + "parameters of the same names)"));
        s.putObject("operatorToken").put("type", "http").put("scheme", "bearer").put("description", "The operator's "
                + "token: 256 random bits, base64url, made once by serve in the platform directory's "
                + OperatorToken.FILE + " (0600)");
        s.putObject("operatorSession").put("type", "apiKey").put("in", "cookie").put("name", Access.COOKIE)
                .put("description", "The session GET /login sets (HttpOnly, SameSite=Strict, Secure under TLS; "
                        + Access.SESSION_MILLIS / 3_600_000 + " h)");
        return s;
    }

    private static final String READ = "Read-only, for enrolled participants in good standing (a signed request; a "
            + "quarantined participant gets 403) and the operator (Authorization: Bearer with the token serve made in "
            + "the platform directory's " + OperatorToken.FILE + ", or the session cookie of GET /login). serve "
            + "--public-dashboard opens the dashboard and /v1/status to anyone, --public-dataset the dataset; "
            + "/v1/status says which under access. /v1/round is never public.";

    private static final String DESCRIPTION = "A CoOpt round over HTTP: the platform hands out disjoint shards of "
            + "unlabeled images, participants run their priors on them on their own machines and upload the outputs, "
            + "and the platform aligns and fuses what they upload into one optimized dataset.\n\n"
            + "Health and this document are for anyone. The dashboard, status, the round and the fused dataset are "
            + "for enrolled participants in good standing (signed as below) and the operator (Authorization: Bearer "
            + "with the token serve made in the platform directory's " + OperatorToken.FILE + ", or the session cookie "
            + "GET /login sets); serve --public-dashboard and --public-dataset open the dashboard and status, or the "
            + "dataset, to anyone; none shows a secret. Every other route is signed: the participant sends four "
            + "headers, " + RequestSignature.PARTICIPANT + " (its id), " + RequestSignature.TIMESTAMP + " (epoch "
            + "milliseconds), " + RequestSignature.CONTENT_SHA256 + " (lowercase hex sha256 of the exact body bytes; "
            + "of the empty body for a request without one) and " + RequestSignature.SIGNATURE + " (base64 Ed25519 "
            + "signature, by the key it enrolled, over the UTF-8 text METHOD + \"\\n\" + path-with-query + \"\\n\" + "
            + "timestamp + \"\\n\" + body-sha256). The platform answers 401 for an unknown participant, a bad "
            + "signature, a timestamp outside its window, or a signature it has already seen (replay).\n\n"
            + "Every refusal is a 4xx with a JSON body {\"error\": \"reason\"}. JSON property names are snake_case. "
            + "Uploads are safetensors files and nothing else: the header is checked (size caps, dtype, shape, ids) "
            + "before the body is read, and every value must be finite.\n\n"
            + "This document is made from the routes the server registers and the records it writes.";
}
