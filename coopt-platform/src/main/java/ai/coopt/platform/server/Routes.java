package ai.coopt.platform.server;

import ai.coopt.platform.api.Accepted;
import ai.coopt.platform.api.AuditOutcome;
import ai.coopt.platform.api.Audits;
import ai.coopt.platform.api.DatasetListing;
import ai.coopt.platform.api.EnrollRequest;
import ai.coopt.platform.api.Enrolled;
import ai.coopt.platform.api.Health;
import ai.coopt.platform.api.LeaseRequest;
import ai.coopt.platform.api.LeaseView;
import ai.coopt.platform.api.RenewRequest;
import ai.coopt.platform.api.RoundView;
import ai.coopt.platform.api.Status;
import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.server.Route.Caller;
import io.javalin.http.Handler;
import io.javalin.router.JavalinDefaultRoutingApi;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static ai.coopt.platform.server.Refusal.Kind.CONFLICT;
import static ai.coopt.platform.server.Refusal.Kind.FORBIDDEN;
import static ai.coopt.platform.server.Refusal.Kind.MALFORMED;
import static ai.coopt.platform.server.Refusal.Kind.NOT_FOUND;
import static ai.coopt.platform.server.Refusal.Kind.UNACCEPTABLE;
import static ai.coopt.platform.server.Refusal.Kind.UNAUTHENTICATED;

/**
 * Every route the platform serves, in the order the document lists them: {@link PlatformServer} registers a handler
 * for each through {@link Registration} (and for nothing else), {@link OpenApi} documents each.
 */
final class Routes {
    private static final String SAFETENSORS_IMAGES = "A safetensors file with `images` (U8, [n, C, H, W]) and `ids` "
            + "(I64, [n])";
    private static final Route.Param SHARD = Route.Param.of("shard", "path", true, "The shard's number, from 0", "type",
            "integer", "format", "int32", "minimum", 0);
    private static final Route.Param AUDIT = Route.Param.of("audit", "path", true, "An audit id from POST /v1/audits",
            "type", "integer", "format", "int64");
    private static final Route.Param DATASET_ROUND = Route.Param.of("round", "query", false, "Which round's dataset (1 "
            + "for the first); without it the newest round whose fusion is done. A round that does not exist or is not "
            + "fused yet is a 404, a value that is not a round number a 400", "type", "integer", "format", "int32",
            "minimum", 1);

    static final Route DASHBOARD = Route.get("/", Caller.READER, "dashboard",
                    "The dashboard: a server-rendered HTML page (no script) that reloads itself every 5 s")
            .answersPage("The round, participants, shards with lease holders, uploads, uniformity ranking, residuals, "
                    + "fusion and a timeline");
    static final Route HEALTH = Route.get("/health", Caller.ANYONE, "health", "Liveness and the platform's version")
            .answers(200, "The platform is serving", Health.class);
    static final Route OPENAPI = Route.get("/openapi.json", Caller.ANYONE, "openapi", "This document")
            .answers(200, "The OpenAPI 3.0.3 description of every route, made from the routes the server registers "
                    + "and the records it writes", null);
    static final Route LOGIN = Route.get("/login", Caller.ANYONE, "login",
                    "The operator's browser login: sets a session cookie and redirects to the dashboard (away from the "
                            + "token in the address bar)")
            .param(Route.Param.of("token", "query", true, "The operator's token (the platform directory's "
                    + OperatorToken.FILE + ")", "type", "string", "maxLength", 256))
            .answersEmpty(303, "Logged in: Set-Cookie " + Access.COOKIE + " (HttpOnly, SameSite=Strict, Secure under "
                    + "TLS), Location /", Map.of("Set-Cookie", "The session cookie", "Location", "The dashboard, /"))
            .refuses(UNAUTHENTICATED);
    static final Route STATUS = Route.get("/v1/status", Caller.READER, "status",
                    "Everything the platform shows about its round (what `coopt platform status` prints)")
            .answers(200, "The status; it holds no key, invite or lease token", Status.class);
    static final Route ROUND = Route.get("/v1/round", Caller.READER, "round",
                    "The round's plan: its data, number of shards, the shared subset S, seed and data fingerprint")
            .answers(200, "The plan", RoundView.class);
    static final Route ENROLL = Route.post("/v1/enroll", Caller.NEWCOMER, "enroll",
                    "Registers a new participant's Ed25519 public key with a one-time invite")
            .description("Signed with the NEW key (proof that the caller holds its private half): the four headers "
                    + "as for every signed route, verified against the public_key in the body; X-CoOpt-Participant must "
                    + "be the id that key will have (p- and the first 16 hex digits of the sha256 of its 32 raw bytes). "
                    + "The participant's name is the one the invite was made for.")
            .json(EnrollRequest.class, true, null)
            .answers(201, "Enrolled; sign later requests with this id", Enrolled.class)
            .refuses(CONFLICT);
    static final Route SHARED_IMAGES = Route.get("/v1/shared/images", Caller.PARTICIPANT, "sharedImages",
                    "The images of the shared subset S as safetensors")
            .answersFile(SAFETENSORS_IMAGES + "; its sha256 is the round's shared_sha256");
    static final Route UPLOAD_SHARED = Route.post("/v1/shared", Caller.PARTICIPANT, "uploadShared",
                    "Uploads the participant's prior outputs on the shared subset S, with its prior's report")
            .description("A participant sends this once a round, before it leases any shard. The platform ranks "
                    + "participants by the uniformity of these outputs and aligns the others to the most uniform one.")
            .streams("A safetensors file: `outputs` (F32, [|S|, d]), `ids` (I64, [|S|]) exactly the round's shared_ids "
                    + "in order, and `__metadata__.prior` = the prior's report as a JSON string (its output_dim must be "
                    + "d and its uniformity_subset |S|)")
            .answers(201, "Accepted", Accepted.class)
            .answers(200, "The same content was already accepted (an idempotent retry)", Accepted.class)
            .refuses(CONFLICT, UNACCEPTABLE).rateLimited();
    static final Route LEASE = Route.post("/v1/lease", Caller.PARTICIPANT, "lease",
                    "Leases the next open shard (or one whose lease expired)")
            .description("The body is empty, `{}` or `{\"worker\": NAME}`; it is signed like any other. A worker is one "
                    + "of the participant's processes (an organisation runs several machines with one key): the same "
                    + "worker asking again gets its lease back, and the participant's workers hold at most `serve "
                    + "--max-leases-per-participant` leases at once (then wait). No worker: the participant's only "
                    + "process. A participant must have sent its outputs on S first. A quarantined participant is "
                    + "refused (403, with the reason).")
            .json(LeaseRequest.class, false, null)
            .answers(200, "granted: a shard, its ids and a lease token; wait: every shard is leased, ask again after "
                    + "wait_ms; done: every shard is accepted", LeaseView.class)
            .refuses(FORBIDDEN, CONFLICT).rateLimited();
    static final Route RENEW = Route.post("/v1/lease/renew", Caller.PARTICIPANT, "renewLease",
                    "Extends a lease the participant still holds")
            .json(RenewRequest.class, true, null)
            .answers(200, "The lease, with its new expiry", LeaseView.class)
            .refuses(FORBIDDEN).rateLimited();
    static final Route SHARD_IMAGES = Route.get("/v1/shards/{shard}/images", Caller.PARTICIPANT, "shardImages",
                    "The images of a shard, for its lease holder only")
            .param(SHARD)
            .answersFile(SAFETENSORS_IMAGES + "; its sha256 is the lease's sha256")
            .refuses(FORBIDDEN, NOT_FOUND);
    static final Route UPLOAD_SHARD = Route.post("/v1/shards/{shard}/upload", Caller.PARTICIPANT, "uploadShard",
                    "Uploads the prior's outputs on a leased shard")
            .description("The signed path includes the query (`/v1/shards/3/upload?token=...`). A shard is accepted "
                    + "exactly once; a retry of the accepted upload is answered 200.")
            .param(SHARD)
            .param(Route.Param.of("token", "query", true, "The lease token POST /v1/lease granted", "type",
                    "string", "maxLength", 200))
            .streams("A safetensors file: `outputs` (F32, [n, d], d the same as the participant's outputs on S) and "
                    + "`ids` (I64, [n]) exactly the shard's ids, in the lease's order, no duplicate, none missing")
            .answers(201, "Accepted", Accepted.class)
            .answers(200, "The same content was already accepted (an idempotent retry)", Accepted.class)
            .refuses(FORBIDDEN, NOT_FOUND, CONFLICT, UNACCEPTABLE).rateLimited();
    static final Route AUDITS = Route.post("/v1/audits", Caller.PARTICIPANT, "audits",
                    "The caller's audits still to answer")
            .description("After each accepted shard upload the platform asks for a random, unannounced sample of that "
                    + "shard's rows and of S's again (their ids are not told: the images come in a random order), and "
                    + "fuses nothing of the upload before the answer matched. The body is empty or `{}`; it is signed "
                    + "like any other.")
            .answers(200, "The pending audits, oldest first", Audits.class)
            .rateLimited();
    static final Route AUDIT_IMAGES = Route.get("/v1/audits/{audit}/images", Caller.PARTICIPANT, "auditImages",
                    "The images of one of the caller's pending audits")
            .param(AUDIT)
            .answersFile(SAFETENSORS_IMAGES + " = 0..n-1, the positions the answer must follow; its sha256 is the one "
                    + "POST /v1/audits lists")
            .refuses(NOT_FOUND, CONFLICT);
    static final Route ANSWER_AUDIT = Route.post("/v1/audits/{audit}", Caller.PARTICIPANT, "answerAudit",
                    "Answers an audit with the prior's outputs on its images")
            .description("Every row must match the row the platform holds for that sample (from the shard upload and, "
                    + "for samples of S, from the outputs on S) to 1e-3 relative, and the shard must agree with the "
                    + "participant's outputs on S within sampling error. A failure quarantines the participant: its "
                    + "rows are not fused and its shards go back to the pool.")
            .param(AUDIT)
            .streams("A safetensors file: `outputs` (F32, [n, d], d the participant's output width) and `ids` (I64, "
                    + "[n]) = 0..n-1, in the order of the audit's images")
            .answers(200, "The audit passed", AuditOutcome.class)
            .refuses(NOT_FOUND, CONFLICT, UNACCEPTABLE).rateLimited();
    static final Route DATASET = Route.get("/v1/dataset", Caller.READER, "dataset",
                    "A fused optimized dataset's files: the newest finished round's, or round N's with ?round=N")
            .param(DATASET_ROUND)
            .answers(200, "The round and its dataset's files, each with its size and sha256 (fetch each from "
                    + "/v1/dataset/{file} with the same ?round=N)", DatasetListing.class)
            .refuses(MALFORMED, NOT_FOUND);
    static final Route DATASET_FILE = Route.get("/v1/dataset/{file}", Caller.READER, "datasetFile",
                    "One file of a fused dataset (the newest finished round's, or round N's with ?round=N)")
            .param(Route.Param.of("file", "path", true, "A name from GET /v1/dataset", "type", "string",
                    "maxLength", 255))
            .param(DATASET_ROUND)
            .answersFile("The file's bytes (verify them against the sha256 in the listing)")
            .refuses(MALFORMED, NOT_FOUND);

    /** Every route, in the document's order. */
    static final List<Route> ALL = List.of(DASHBOARD, HEALTH, OPENAPI, LOGIN, STATUS, ROUND, ENROLL, SHARED_IMAGES,
            UPLOAD_SHARED, LEASE, RENEW, SHARD_IMAGES, UPLOAD_SHARD, AUDITS, AUDIT_IMAGES, ANSWER_AUDIT, DATASET,
            DATASET_FILE);

    private Routes() {}

    /**
     * The server's registration of its handlers: one for every route of the table, under the route's method, path and
     * roles, and none other ({@link #complete} says which is missing).
     */
    static final class Registration {
        private final JavalinDefaultRoutingApi routes;
        private final Set<Route> registered = new LinkedHashSet<>();

        Registration(JavalinDefaultRoutingApi routes) {
            this.routes = routes;
        }

        Registration on(Route route, Handler handler) {
            if (!ALL.contains(route) || !registered.add(route)) {
                throw new IllegalStateException(route + " is not in the table or registered twice");
            }
            routes.addHttpHandler(route.method(), route.path(), handler, route.roles());
            return this;
        }

        /** Fails when a route of the table has no handler. */
        void complete() {
            List<Route> missing = new ArrayList<>(ALL);
            missing.removeAll(registered);
            if (!missing.isEmpty()) {
                throw new IllegalStateException("no handler for " + missing);
            }
        }
    }
}
