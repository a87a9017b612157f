package ai.coopt.platform.server;

import ai.coopt.platform.TestPlatform;
import ai.coopt.platform.api.Status;
import ai.coopt.platform.auth.RequestSignature;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated {@code openapi.json} ({@link OpenApi}): every route the running server registers with its methods and
 * no other, exactly the route table, resolvable references, the schemas of the wire records, and a copy in
 * {@code target/openapi.json} for the independent linter CI runs on it.
 */
class OpenApiTest {

    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch",
            "trace");
    private static final List<String> SIGNING = List.of("X-CoOpt-Timestamp", "X-CoOpt-Content-SHA256",
            "X-CoOpt-Signature");
    private static JsonNode doc;
    private static TestPlatform platform;
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void load(@TempDir Path tmp) throws IOException {
        doc = new ObjectMapper().readTree(OpenApi.json());
        platform = TestPlatform.small(tmp, null, System::currentTimeMillis, PlatformServer.Limits.DEFAULT);
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    /** Every route the running server registers (Javalin's router), with its methods. */
    private static Map<String, Set<String>> routes() {
        Map<String, Set<String>> r = new LinkedHashMap<>();
        for (String route : platform.server().registeredRoutes()) {
            String[] methodAndPath = route.split(" ", 2);
            r.computeIfAbsent(methodAndPath[1], p -> new TreeSet<>()).add(methodAndPath[0].toLowerCase(Locale.ROOT));
        }
        return r;
    }

    /** The routes a participant signs (enrolment: with the key it registers), by the route table. */
    private static Set<String> signed() {
        Set<String> paths = new HashSet<>();
        Routes.ALL.stream().filter(r -> r.caller().signs()).forEach(r -> paths.add(r.path()));
        return paths;
    }

    @Test
    void isOpenApi303() {
        assertEquals("3.0.3", doc.path("openapi").asText());
        assertFalse(doc.path("info").path("title").asText().isBlank());
        assertFalse(doc.path("info").path("version").asText().isBlank());
    }

    @Test
    void everyRouteWithItsMethodsAndNoOther() {
        Map<String, Set<String>> documented = new LinkedHashMap<>();
        doc.path("paths").fields().forEachRemaining(e -> {
            Set<String> methods = new TreeSet<>();
            e.getValue().fieldNames().forEachRemaining(m -> {
                if (METHODS.contains(m)) {
                    methods.add(m);
                }
            });
            documented.put(e.getKey(), methods);
        });
        assertTrue(routes().size() > 10, "routes registered: " + routes());
        assertEquals(new TreeSet<>(routes().keySet()), new TreeSet<>(documented.keySet()));
        routes().forEach((path, methods) -> assertEquals(new TreeSet<>(methods), documented.get(path), path));
    }

    /**
     * The running server answers every documented path and method with something other than Javalin's "no route" 404 (as
     * the operator, so that the dashboard, status, round and dataset let the request through), and every other method
     * on those paths with that 404.
     */
    @Test
    void theRunningServerAnswersEveryDocumentedRouteAndNoOther() throws Exception {
        forEachPath((path, documented) -> {
            for (String method : List.of("GET", "POST", "PUT", "PATCH", "DELETE")) {
                HttpResponse<String> answer = send(method, concrete(path), true);
                // Javalin's 404 for a request no route matched: its own text, or the JSON of the server's error handler
                boolean noRoute = answer.statusCode() == 404 && (answer.body().contains("\"no route " + method + " ")
                        || answer.body().startsWith("Endpoint " + method + " "));
                assertEquals(!documented.contains(method.toLowerCase(Locale.ROOT)), noRoute,
                        method + " " + path + ": " + answer.statusCode() + " " + answer.body());
            }
        });
    }

    /**
     * Each route's caller in the table is the one the running server asks for: a request with no credential is let
     * into a public route and refused (401) by every other; the operator's token lets it into the dashboard, status,
     * round and dataset, but not into a route a participant signs.
     */
    @Test
    void everyRouteAsksForTheCallerTheTableSays() throws Exception {
        for (Route r : Routes.ALL) {
            int anonymous = send(r.method().name(), concrete(r.path()), false).statusCode();
            int operator = send(r.method().name(), concrete(r.path()), true).statusCode();
            switch (r.caller()) {
                case ANYONE -> assertTrue(anonymous != 401 || r.refusals().contains(Refusal.Kind.UNAUTHENTICATED),
                        r + ": " + anonymous);
                case READER -> {
                    assertEquals(401, anonymous, r.toString());
                    assertTrue(operator != 401 && operator != 403, r + ": " + operator);
                }
                case PARTICIPANT, NEWCOMER -> {
                    assertEquals(401, anonymous, r.toString());
                    assertEquals(401, operator, r.toString());
                }
            }
            if (r.caller() == Route.Caller.ANYONE && r.refusals().isEmpty()) {
                assertEquals(200, anonymous, r.toString());
            }
        }
    }

    /** The document lists exactly the route table, in its order: method, path, operation id, summary and caller. */
    @Test
    void theDocumentListsExactlyTheRouteTable() {
        List<String> table = new ArrayList<>();
        for (Route r : Routes.ALL) {
            table.add(r.method().name().toLowerCase(Locale.ROOT) + " " + r.path() + " " + r.operationId() + " "
                    + r.caller().tag + " " + r.summary());
        }
        List<String> documented = new ArrayList<>();
        forEachOperation((where, op) -> documented.add(where.toLowerCase(Locale.ROOT).split(" ")[0] + " "
                + where.substring(where.indexOf(' ') + 1) + " " + op.path("operationId").asText() + " "
                + op.path("tags").path(0).asText() + " " + op.path("summary").asText()));
        assertEquals(table, documented);
    }

    /** The server serves the document it generates, and the build keeps a copy for the linter. */
    @Test
    void servedAsGeneratedAndWrittenForTheLinter() throws Exception {
        HttpResponse<String> served = send("GET", "/openapi.json", false);
        assertEquals(200, served.statusCode());
        assertTrue(served.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertEquals(doc, new ObjectMapper().readTree(served.body()));
        Path copy = Path.of("target", "openapi.json");
        OpenApi.main(new String[] {copy.toString()});
        assertEquals(doc, new ObjectMapper().readTree(Files.readAllBytes(copy)));
        assertEquals("/", doc.path("servers").path(0).path("url").asText(), "a server, relative to the document");
    }

    @Test
    void everyOperationHasASummaryAUniqueIdAndResponses() {
        Set<String> ids = new HashSet<>();
        forEachOperation((where, op) -> {
            assertFalse(op.path("summary").asText().isBlank(), where + " has no summary");
            assertTrue(ids.add(op.path("operationId").asText()), where + ": operationId missing or repeated");
            assertTrue(op.path("responses").size() > 0, where + " has no response");
            op.path("responses").fields().forEachRemaining(r -> {
                assertTrue(r.getKey().matches("[1-5][0-9][0-9]"), where + ": response code " + r.getKey());
                JsonNode response = resolve(r.getValue());
                assertFalse(response.path("description").asText().isBlank(), where + " " + r.getKey());
            });
        });
    }

    @Test
    void everyRefusalIsAJsonError() {
        JsonNode error = doc.path("components").path("schemas").path("Error");
        assertEquals("string", error.path("properties").path("error").path("type").asText());
        assertEquals("error", error.path("required").path(0).asText());
        int refusals = 0;
        for (Map.Entry<String, JsonNode> r : responses()) {
            if (r.getKey().contains(" 4")) {
                JsonNode schema = resolve(r.getValue()).path("content").path("application/json").path("schema");
                assertEquals("#/components/schemas/Error", schema.path("$ref").asText(), r.getKey());
                refusals++;
            }
        }
        assertTrue(refusals >= 30, "only " + refusals + " refusals documented");
    }

    @Test
    void signedRoutesDocumentTheSignatureHeadersAnd401() {
        forEachOperation((where, op) -> {
            String path = where.substring(where.indexOf(' ') + 1);
            Set<String> headers = new HashSet<>();
            for (JsonNode p : op.path("parameters")) {
                JsonNode param = resolve(p);
                if ("header".equals(param.path("in").asText())) {
                    headers.add(param.path("name").asText());
                }
            }
            if (signed().contains(path)) {
                assertTrue(headers.containsAll(SIGNING), where + " lacks the signature headers: " + headers);
                // every signed route names its participant (enrolment: the id the key being registered will have)
                assertTrue(headers.contains("X-CoOpt-Participant"), where);
                assertTrue(op.path("responses").has("401"), where + " has no 401");
            } else {
                assertTrue(headers.isEmpty(), where + " is public but asks for headers " + headers);
            }
        });
        for (String path : List.of("/v1/lease/renew", "/v1/shards/{shard}/images", "/v1/shards/{shard}/upload")) {
            JsonNode op = doc.path("paths").path(path).fields().next().getValue();
            assertTrue(op.path("responses").has("403"), path + ": another participant's lease is 403");
        }
    }

    /**
     * The dashboard, status, round and dataset declare who may read them: a participant's signature or the operator's
     * bearer token or login cookie (security schemes), with 401 and 403 (quarantined); signed routes declare the
     * signature; health, this document and the login need nothing.
     */
    @Test
    void protectedRoutesDeclareTheirSecurity() {
        JsonNode schemes = doc.path("components").path("securitySchemes");
        assertEquals("apiKey", schemes.path("participantSignature").path("type").asText());
        assertEquals("header", schemes.path("participantSignature").path("in").asText());
        assertEquals("X-CoOpt-Signature", schemes.path("participantSignature").path("name").asText());
        // the four headers of a signed request are four schemes, required together (one requirement object)
        Map<String, String> signature = Map.of("participantId", RequestSignature.PARTICIPANT, "participantTimestamp",
                RequestSignature.TIMESTAMP, "participantContentSha256", RequestSignature.CONTENT_SHA256,
                "participantSignature", RequestSignature.SIGNATURE);
        signature.forEach((scheme, header) -> {
            assertEquals("apiKey", schemes.path(scheme).path("type").asText(), scheme);
            assertEquals("header", schemes.path(scheme).path("in").asText(), scheme);
            assertEquals(header, schemes.path(scheme).path("name").asText(), scheme);
        });
        assertEquals("http", schemes.path("operatorToken").path("type").asText());
        assertEquals("bearer", schemes.path("operatorToken").path("scheme").asText());
        assertEquals("cookie", schemes.path("operatorSession").path("in").asText());
        assertEquals(Access.COOKIE, schemes.path("operatorSession").path("name").asText());
        Set<String> read = Set.of("/", "/v1/status", "/v1/round", "/v1/dataset", "/v1/dataset/{file}");
        forEachOperation((where, op) -> {
            String path = where.substring(where.indexOf(' ') + 1);
            Set<String> security = new TreeSet<>();
            assertTrue(op.path("security").isArray(), where + " declares its security");
            op.path("security").forEach(s -> s.fieldNames().forEachRemaining(security::add));
            security.forEach(s -> assertTrue(schemes.has(s), where + ": no scheme " + s));
            Set<String> signatureTogether = new TreeSet<>();
            if (!op.path("security").isEmpty()) {
                op.path("security").path(0).fieldNames().forEachRemaining(signatureTogether::add);
            }
            Set<String> expected = new TreeSet<>(signature.keySet());
            if (read.contains(path)) {
                expected.addAll(List.of("operatorToken", "operatorSession"));
                assertEquals(expected, security, where);
                assertEquals(3, op.path("security").size(), where + ": a signature, the token or the session");
                assertEquals(signature.keySet(), signatureTogether, where);
                assertTrue(op.path("responses").has("401") && op.path("responses").has("403"), where);
            } else if (signed().contains(path)) {
                assertEquals(expected, security, where);
                assertEquals(1, op.path("security").size(), where + ": the four signature headers together");
            } else {
                assertEquals(Set.of(), security, where + " is for anyone");
            }
        });
    }

    @Test
    void uploadsAreSafetensorsWithTheirCodes() {
        for (String path : List.of("/v1/shared", "/v1/shards/{shard}/upload")) {
            JsonNode op = doc.path("paths").path(path).path("post");
            assertTrue(op.path("requestBody").path("content").has("application/octet-stream"), path);
            for (String code : List.of("200", "201", "400", "401", "409", "411", "413", "422")) {
                assertTrue(op.path("responses").has(code), path + " " + code);
            }
        }
        JsonNode upload = doc.path("paths").path("/v1/shards/{shard}/upload").path("post");
        assertTrue(upload.path("responses").has("403"));
        List<String> params = new ArrayList<>();
        upload.path("parameters").forEach(p -> params.add(resolve(p).path("in").asText() + ":"
                + resolve(p).path("name").asText()));
        assertTrue(params.contains("query:token") && params.contains("path:shard"), params.toString());
        assertTrue(doc.path("paths").path("/v1/enroll").path("post").path("requestBody").path("content")
                .has("application/json"));
        assertTrue(doc.path("paths").path("/").path("get").path("responses").path("200").path("content")
                .has("text/html"));
        assertTrue(doc.path("paths").path("/v1/dataset").path("get").path("responses").has("404"));
    }

    @Test
    void everyPathTemplateHasItsPathParameter() {
        Pattern template = Pattern.compile("\\{([a-z]+)}");
        forEachOperation((where, op) -> {
            Set<String> declared = new HashSet<>();
            for (JsonNode p : op.path("parameters")) {
                JsonNode param = resolve(p);
                if ("path".equals(param.path("in").asText())) {
                    assertTrue(param.path("required").asBoolean(), where + ": path parameters are required");
                    declared.add(param.path("name").asText());
                }
            }
            Set<String> inPath = new HashSet<>();
            Matcher m = template.matcher(where);
            while (m.find()) {
                inPath.add(m.group(1));
            }
            assertEquals(inPath, declared, where);
        });
    }

    @Test
    void everyReferenceResolves() {
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertTrue(refs.size() > 50, "references: " + refs.size());
        for (String ref : refs) {
            assertTrue(ref.startsWith("#/"), ref);
            assertFalse(doc.at(ref.substring(1)).isMissingNode(), "unresolved " + ref);
        }
    }

    /** The Status schema follows the record, field for field, in the JSON's snake_case. */
    @Test
    void statusSchemaMatchesTheRecord() {
        Map<Class<?>, String> schemas = new LinkedHashMap<>();
        schemas.put(Status.class, "Status");
        schemas.put(Status.Round.class, "Round");
        schemas.put(Status.RoundRow.class, "RoundRow");
        schemas.put(Status.ParticipantView.class, "Participant");
        schemas.put(Status.ShardView.class, "Shard");
        schemas.put(Status.UploadView.class, "Upload");
        schemas.put(Status.Rank.class, "Rank");
        schemas.put(Status.Fusion.class, "Fusion");
        schemas.put(Status.Event.class, "Event");
        schemas.forEach((type, name) -> {
            JsonNode schema = doc.path("components").path("schemas").path(name);
            Set<String> expected = new TreeSet<>();
            for (RecordComponent c : type.getRecordComponents()) {
                expected.add(snake(c.getName()));
            }
            if (type == Status.class) {
                expected.add("access"); // who may read what: added by the server (Access), not the service
            }
            Set<String> properties = new TreeSet<>();
            schema.path("properties").fieldNames().forEachRemaining(properties::add);
            assertEquals(expected, properties, name);
            Set<String> required = new TreeSet<>();
            schema.path("required").forEach(r -> required.add(r.asText()));
            assertEquals(expected, required, name + ": every field is written, null or not");
        });
        assertTrue(doc.at("/components/schemas/Status/properties/shards_by_state/additionalProperties").isObject());
        assertTrue(doc.at("/components/schemas/Shard/properties/lease_holder/nullable").asBoolean());
    }

    @Test
    void snakeCaseLikeJackson() {
        assertEquals("shards_by_state", snake("shardsByState"));
        assertEquals("lease_holder", snake("leaseHolder"));
        assertEquals("version", snake("version"));
    }

    private static String snake(String camel) {
        return camel.replaceAll("([A-Z])", "_$1").toLowerCase(Locale.ROOT);
    }

    private interface PathCheck {
        void check(String path, Set<String> methods) throws Exception;
    }

    /** Each documented path with its documented methods. */
    private static void forEachPath(PathCheck check) throws Exception {
        for (Map.Entry<String, JsonNode> path : doc.path("paths").properties()) {
            Set<String> methods = new TreeSet<>();
            path.getValue().fieldNames().forEachRemaining(m -> {
                if (METHODS.contains(m)) {
                    methods.add(m);
                }
            });
            check.check(path.getKey(), methods);
        }
    }

    /** A path template with its parameters filled in ({@code /v1/shards/{shard}/images} → {@code /v1/shards/1/images}). */
    private static String concrete(String template) {
        return template.replaceAll("\\{[a-z]+}", "1");
    }

    /** {@code method path} with an empty body, as the operator (its bearer token) or with no credential. */
    private static HttpResponse<String> send(String method, String path, boolean operator) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(platform.url() + path)).timeout(Duration.ofSeconds(20))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (operator) {
            b.header("Authorization", "Bearer " + platform.operatorToken());
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private interface OperationCheck {
        void check(String where, JsonNode operation);
    }

    private static void forEachOperation(OperationCheck check) {
        doc.path("paths").fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(op -> {
            if (METHODS.contains(op.getKey())) {
                check.check(op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey(), op.getValue());
            }
        }));
    }

    /** "METHOD path code" → the response object, for every operation. */
    private static List<Map.Entry<String, JsonNode>> responses() {
        List<Map.Entry<String, JsonNode>> all = new ArrayList<>();
        forEachOperation((where, op) -> op.path("responses").fields().forEachRemaining(
                r -> all.add(Map.entry(where + " " + r.getKey(), r.getValue()))));
        return all;
    }

    private static JsonNode resolve(JsonNode node) {
        String ref = node.path("$ref").asText("");
        if (ref.isEmpty()) {
            return node;
        }
        JsonNode target = doc.at(ref.substring(1));
        assertFalse(target.isMissingNode(), "unresolved " + ref);
        return target;
    }

    private static void collectRefs(JsonNode node, List<String> refs) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> {
                if (e.getKey().equals("$ref")) {
                    refs.add(e.getValue().asText());
                } else {
                    collectRefs(e.getValue(), refs);
                }
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectRefs(n, refs));
        }
    }
}
