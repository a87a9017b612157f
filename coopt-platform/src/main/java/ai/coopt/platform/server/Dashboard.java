package ai.coopt.platform.server;

import ai.coopt.platform.api.Status;
import ai.coopt.report.Html;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The platform's {@code GET /} page: one server-rendered HTML5 document built from a {@link Status}, readable without
 * JavaScript (it carries none, and its Content-Security-Policy forbids any), reloading itself every
 * {@value #REFRESH_SECONDS} s, with its style inline and no external resource.
 *
 * <p>Every string that came from a participant or from the data spec (names, priors, reasons, details, ids) is
 * HTML-escaped. Times are UTC ISO-8601 to the second; lease expiries are also shown relative to {@link Status#now()}.
 *
 * <p>Sections, each a {@code <section>} with a stable id: {@code round} (the current round), {@code rounds} (every
 * round: shards accepted, fusion state, its dataset once fused), {@code participants}, {@code shards},
 * {@code uploads}, {@code uniformity}, {@code residuals}, {@code fusion}, {@code timeline}; all but {@code rounds} and
 * the timeline are about the current round. Shards are drawn as a grid
 * of one coloured cell each (state and holder in its title); the shard table lists every shard of a round of at most
 * {@value #FULL_SHARD_TABLE}, otherwise the leased shards (soonest expiry first, at most {@value #SHARD_ROWS}) and the
 * next {@value #OPEN_ROWS} open ones. Uploads and events are limited to the newest {@value #UPLOAD_ROWS} and
 * {@value #EVENT_ROWS}.
 */
public final class Dashboard {

    /** The page reloads itself this often. */
    public static final int REFRESH_SECONDS = 5;
    /** Up to this many shards, the shard table lists each one. */
    static final int FULL_SHARD_TABLE = 50;
    /** Beyond {@link #FULL_SHARD_TABLE} shards, the table lists at most this many leased shards... */
    static final int SHARD_ROWS = 500;
    /** ...and this many open ones. */
    static final int OPEN_ROWS = 20;
    static final int UPLOAD_ROWS = 200;
    static final int EVENT_ROWS = 100;

    private static final DateTimeFormatter UTC = DateTimeFormatter.ISO_INSTANT;
    private static final List<String> STATE_ORDER = List.of("open", "leased", "accepted");

    private static final String STYLE = """
            :root{color-scheme:light}
            body{font-family:system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif;margin:1.2em auto;\
            max-width:1180px;padding:0 1em;color:#1b1b1b;line-height:1.4}
            h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd}
            nav a{margin-right:.8em}.note{color:#555;font-size:.92em}
            table{border-collapse:collapse;margin:.5em 0;font-size:.93em}
            td,th{border:1px solid #ccc;padding:.22em .5em;text-align:left;vertical-align:top}
            th{background:#f3f3f3}td{overflow-wrap:anywhere}td.n,td.t{white-space:nowrap}
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            dl{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;margin:.4em 0}
            dt{color:#555}dd{margin:0}
            code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.9em}code.h{white-space:nowrap}
            pre{background:#f6f6f6;padding:.6em;overflow-x:auto}
            tr.refused td{background:#fde7e7}tr.refused td.st{color:#a10000;font-weight:bold}
            tr.ref td{background:#e8f3ff}.tag{font-weight:bold;color:#0b4f9c}
            .counts span{display:inline-block;margin-right:1.2em}
            .grid{display:flex;flex-wrap:wrap;gap:1px;margin:.5em 0;max-width:100%}
            .grid span{width:9px;height:9px;display:block}
            .o{background:#c9c9c9}.l{background:#f0a202}.a{background:#2e9e44}
            .x{background:#7b3fb0}.e{background:#d9480f}
            .key span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em;vertical-align:middle}
            .state-done{color:#1d7a33;font-weight:bold}.state-failed{color:#a10000;font-weight:bold}
            .state-running{color:#9a6400;font-weight:bold}
            """;

    private Dashboard() {}

    /** The whole page for this status. */
    public static String render(Status s) {
        Objects.requireNonNull(s, "status");
        Map<String, String> names = new HashMap<>();
        for (Status.ParticipantView p : list(s.participants())) {
            if (p.id() != null && p.name() != null) {
                names.put(p.id(), p.name());
            }
        }
        Page page = new Page(s.now(), names, 32 * 1024 + 64 * list(s.shards()).size());
        head(page, s);
        round(page, s.round());
        rounds(page, s);
        participants(page, s);
        shards(page, s);
        uploads(page, s);
        audits(page, s);
        uniformity(page, s);
        residuals(page, s);
        fusion(page, s);
        timeline(page, s);
        page.out.append("</body>\n</html>\n");
        return page.out.toString();
    }

    private static void head(Page p, Status s) {
        Status.Round r = s.round();
        String title = "CoOpt platform" + (r != null && r.data() != null ? " · " + r.data() : "");
        p.out.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"refresh\" content=\"").append(REFRESH_SECONDS).append("\">\n")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ")
                .append("style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<link rel=\"icon\" href=\"data:,\">\n")
                .append("<title>").append(Html.escape(title)).append("</title>\n<style>\n").append(STYLE)
                .append("</style>\n</head>\n<body>\n<header>\n<h1>").append(Html.escape(title)).append("</h1>\n")
                .append("<p class=\"note\">Version ").append(text(s.version())).append(" · status at ")
                .append(utc(s.now())).append(" UTC · this page reloads itself every ").append(REFRESH_SECONDS)
                .append(" s</p>\n<nav>");
        for (String id : List.of("round", "rounds", "participants", "shards", "uploads", "audits", "uniformity",
                "residuals", "fusion", "timeline")) {
            p.out.append("<a href=\"#").append(id).append("\">").append(id).append("</a>");
        }
        p.out.append("</nav>\n</header>\n");
    }

    private static void round(Page p, Status.Round r) {
        p.open("round", r == null ? "Round" : "Round " + r.id());
        if (r == null) {
            p.out.append("<p class=\"note\">The round is not planned yet.</p>\n");
        } else {
            String fingerprint = r.fingerprint();
            p.out.append("<dl>\n");
            p.pair("current round", "<strong id=\"current-round\">" + r.id() + "</strong>");
            p.pair("data", "<code>" + text(r.data()) + "</code>");
            p.pair("split", text(r.split()));
            p.pair("images", String.valueOf(r.count()));
            p.pair("shards", String.valueOf(r.shards()));
            p.pair("shared subset", r.sharedCount() + " images");
            p.pair("seed", String.valueOf(r.seed()));
            p.pair("lease", r.leaseSeconds() + " s");
            p.pair("alignment", text(r.align()));
            p.pair(r.id() == 1 ? "planned" : "opened", utc(r.createdAt()));
            p.pair("fingerprint", fingerprint == null ? "—"
                    : "<code title=\"" + Html.escape(fingerprint) + "\">" + Html.escape(shortHash(fingerprint)) + "</code>");
            p.out.append("</dl>\n");
        }
        p.close();
    }

    private static void rounds(Page p, Status s) {
        List<Status.RoundRow> all = list(s.rounds());
        p.open("rounds", "Rounds (" + all.size() + ")");
        if (all.isEmpty()) {
            p.closeWith("No round is open yet.");
            return;
        }
        p.out.append("<p class=\"note\">Every round has the same data, shards and shared subset; participants may bring ")
                .append("another prior each round. The next round opens once this one is fused: ")
                .append("<code>coopt platform next-round --dir DIR</code>.</p>\n")
                .append("<table>\n<thead><tr><th>round</th><th>opened (UTC)</th><th>shards accepted</th>")
                .append("<th>fusion</th><th>dataset</th></tr></thead>\n<tbody>\n");
        int current = s.round() == null ? -1 : s.round().id();
        for (int i = all.size() - 1; i >= 0; i--) {
            Status.RoundRow r = all.get(i);
            String state = r.fusion() == null ? "unknown" : r.fusion();
            p.out.append("<tr data-round=\"").append(r.id()).append("\"").append(r.id() == current ? " class=\"ref\"" : "")
                    .append("><td class=\"n\">").append(r.id()).append(r.id() == current ? " <span class=\"tag\">current</span>" : "")
                    .append("</td><td class=\"t\">").append(utc(r.createdAt())).append("</td><td class=\"n\">")
                    .append(r.accepted()).append(" / ").append(r.shards()).append("</td><td><span class=\"state-")
                    .append(Html.escape(state)).append("\">").append(Html.escape(state)).append("</span></td><td>");
            if (r.dataset() != null && r.dataset().matches("/v1/dataset\\?round=[0-9]+")) {
                p.out.append("<a href=\"").append(Html.escape(r.dataset())).append("\">round ").append(r.id()).append("'s dataset</a>");
            } else {
                p.out.append("<span class=\"note\">not fused yet</span>");
            }
            p.out.append("</td></tr>\n");
        }
        p.out.append("</tbody>\n</table>\n");
        p.close();
    }

    private static void participants(Page p, Status s) {
        List<Status.ParticipantView> all = list(s.participants());
        p.open("participants", "Participants (" + all.size() + ")");
        if (all.isEmpty()) {
            p.out.append("<p class=\"note\">No participant has enrolled yet.</p>\n");
        } else {
            p.out.append("<table>\n<thead><tr><th>name</th><th>id</th><th>prior</th><th>shards accepted</th>")
                    .append("<th>enrolled (UTC)</th><th>standing</th></tr></thead>\n<tbody>\n");
            for (Status.ParticipantView v : all) {
                boolean quarantined = v.quarantined() != null;
                p.out.append("<tr data-participant=\"").append(Html.escape(v.id())).append("\"")
                        .append(quarantined ? " class=\"refused\"" : "").append("><td>").append(text(v.name()))
                        .append("</td><td><code>").append(text(v.id())).append("</code></td><td>")
                        .append(v.prior() == null ? "<span class=\"note\">not reported yet</span>"
                                : "<code>" + Html.escape(v.prior()) + "</code>")
                        .append("</td><td class=\"n\">").append(v.shardsAccepted())
                        .append("</td><td class=\"t\">").append(utc(v.enrolledAt())).append("</td>")
                        .append(quarantined ? "<td class=\"st\">✗ quarantined: " + Html.escape(v.quarantined())
                                + " (its rows are not fused; its shards went back to the pool)</td>" : "<td>good</td>")
                        .append("</tr>\n");
            }
            p.out.append("</tbody>\n</table>\n");
        }
        p.close();
    }

    private static void shards(Page p, Status s) {
        List<Status.ShardView> all = new ArrayList<>(list(s.shards()));
        all.sort(Comparator.comparingInt(Status.ShardView::shard));
        p.open("shards", "Shards (" + all.size() + ")");
        Map<String, Integer> counts = new LinkedHashMap<>();
        if (s.shardsByState() != null) {
            STATE_ORDER.forEach(state -> counts.put(state, s.shardsByState().getOrDefault(state, 0)));
            s.shardsByState().keySet().stream().filter(k -> !counts.containsKey(k)).sorted()
                    .forEach(k -> counts.put(k, s.shardsByState().get(k)));
        } else {
            STATE_ORDER.forEach(state -> counts.put(state, 0));
            all.forEach(v -> counts.merge(String.valueOf(v.state()), 1, Integer::sum));
        }
        p.out.append("<p class=\"counts\">");
        counts.forEach((state, n) -> p.out.append("<span data-state=\"").append(Html.escape(state)).append("\"><strong>")
                .append(n == null ? 0 : n).append("</strong> ").append(Html.escape(state)).append("</span>"));
        p.out.append("</p>\n");
        if (all.isEmpty()) {
            p.closeWith("No shard is planned yet.");
            return;
        }
        p.out.append("<p class=\"key note\">One cell a shard, in order; hover for details:")
                .append("<span class=\"o\"></span>open<span class=\"l\"></span>leased")
                .append("<span class=\"e\"></span>lease expired<span class=\"a\"></span>accepted</p>\n")
                .append("<div class=\"grid\">");
        for (Status.ShardView v : all) {
            String cls = cellClass(v, p.now);
            StringBuilder title = new StringBuilder("shard ").append(v.shard()).append(": ").append(v.state());
            if (v.leaseHolder() != null) {
                title.append(" by ").append(p.name(v.leaseHolder()));
                if (v.leaseExpires() != null) {
                    title.append(", ").append(leaseTime(v.leaseExpires(), p.now));
                }
            } else if (v.acceptedFrom() != null) {
                title.append(" from ").append(p.name(v.acceptedFrom()));
            }
            p.out.append("<span class=\"").append(cls).append("\" title=\"").append(Html.escape(title.toString()))
                    .append("\"></span>");
        }
        p.out.append("</div>\n");

        List<Status.ShardView> rows;
        if (all.size() <= FULL_SHARD_TABLE) {
            rows = all;
            p.out.append("<p class=\"note\">Every shard:</p>\n");
        } else {
            List<Status.ShardView> leased = new ArrayList<>();
            List<Status.ShardView> others = new ArrayList<>();
            for (Status.ShardView v : all) {
                if (!"accepted".equals(v.state())) {
                    ("leased".equals(v.state()) ? leased : others).add(v);
                }
            }
            leased.sort(Comparator.comparingLong(v -> v.leaseExpires() == null ? Long.MAX_VALUE : v.leaseExpires()));
            rows = new ArrayList<>(leased.subList(0, Math.min(SHARD_ROWS, leased.size())));
            rows.addAll(others.subList(0, Math.min(OPEN_ROWS, others.size())));
            p.out.append("<p class=\"note\">Leased shards, soonest expiry first");
            if (leased.size() > SHARD_ROWS) {
                p.out.append(" (the first ").append(SHARD_ROWS).append(" of ").append(leased.size()).append(')');
            }
            p.out.append(", then the next open ones");
            if (others.size() > OPEN_ROWS) {
                p.out.append(" (").append(OPEN_ROWS).append(" of ").append(others.size()).append(')');
            }
            p.out.append("; accepted shards are in the grid only.</p>\n");
        }
        if (rows.isEmpty()) {
            p.closeWith("Every shard is accepted.");
            return;
        }
        p.out.append("<table>\n<thead><tr><th>shard</th><th>images</th><th>state</th><th>lease holder</th>")
                .append("<th>lease expires</th><th>accepted from</th><th>sha256</th></tr></thead>\n<tbody>\n");
        for (Status.ShardView v : rows) {
            p.out.append("<tr data-shard=\"").append(v.shard()).append("\"><td class=\"n\">").append(v.shard())
                    .append("</td><td class=\"n\">").append(v.count()).append("</td><td>").append(text(v.state()))
                    .append("</td><td>").append(p.who(v.leaseHolder())).append("</td><td>");
            if (v.leaseExpires() != null) {
                p.out.append("<span title=\"").append(utc(v.leaseExpires())).append(" UTC\">")
                        .append(leaseTime(v.leaseExpires(), p.now)).append("</span>");
            } else {
                p.out.append("—");
            }
            p.out.append("</td><td>").append(p.who(v.acceptedFrom())).append("</td><td>").append(hash(v.sha256()))
                    .append("</td></tr>\n");
        }
        p.out.append("</tbody>\n</table>\n");
        p.close();
    }

    private static void uploads(Page p, Status s) {
        List<Status.UploadView> all = new ArrayList<>(list(s.uploads()));
        // the totals when the platform sent them (the list holds only the newest uploads)
        long accepted = s.uploadTotals() != null ? s.uploadTotals().getOrDefault("accepted", 0L)
                : all.stream().filter(u -> "accepted".equals(u.status())).count();
        long refused = s.uploadTotals() != null ? s.uploadTotals().getOrDefault("refused", 0L)
                : all.stream().filter(u -> "refused".equals(u.status())).count();
        p.open("uploads", "Uploads (" + accepted + " accepted, " + refused + " refused)");
        if (all.isEmpty()) {
            p.closeWith("Nothing has been uploaded yet.");
            return;
        }
        all.sort(Comparator.comparingLong(Status.UploadView::at).thenComparingLong(Status.UploadView::id).reversed());
        List<Status.UploadView> rows = all.size() > UPLOAD_ROWS ? all.subList(0, UPLOAD_ROWS) : all;
        p.out.append("<p class=\"note\">Newest first");
        if (rows.size() < accepted + refused) {
            p.out.append(", the latest ").append(rows.size()).append(" of ").append(accepted + refused);
        }
        p.out.append(".</p>\n<table>\n<thead><tr><th>at (UTC)</th><th>participant</th><th>of</th><th>result</th>")
                .append("<th>rows × dim</th><th>size</th><th>sha256</th><th>reason</th></tr></thead>\n<tbody>\n");
        for (Status.UploadView u : rows) {
            boolean isRefused = "refused".equals(u.status());
            p.out.append(isRefused ? "<tr class=\"refused\">" : "<tr>").append("<td class=\"t\">")
                    .append(utc(u.at()))
                    .append("</td><td>").append(p.who(u.participant())).append("</td><td>")
                    .append(u.shard() == null ? "shared subset" : "shard " + u.shard()).append("</td><td class=\"st\">")
                    .append(isRefused ? "✗ refused" : text(u.status())).append("</td><td class=\"n\">")
                    .append(u.rows() == null ? "—" : u.rows() + " × " + (u.dim() == null ? "?" : u.dim()))
                    .append("</td><td class=\"n\" title=\"").append(u.bytes()).append(" bytes\">")
                    .append(bytes(u.bytes())).append("</td><td>").append(hash(u.sha256())).append("</td><td>")
                    .append(u.reason() == null ? "" : Html.escape(u.reason())).append("</td></tr>\n");
        }
        p.out.append("</tbody>\n</table>\n");
        p.close();
    }

    private static void audits(Page p, Status s) {
        List<Status.AuditView> all = new ArrayList<>(list(s.audits()));
        Map<String, Long> byState = new LinkedHashMap<>();
        for (String state : List.of("pending", "passed", "failed")) {
            byState.put(state, all.stream().filter(a -> state.equals(a.state())).count());
        }
        p.open("audits", "Audits (" + byState.get("passed") + " passed, " + byState.get("failed") + " failed, "
                + byState.get("pending") + " pending)");
        p.out.append("<p class=\"note\">After each accepted shard upload the platform asks its participant again for a ")
                .append("random sample of that shard's rows and of the shared subset's, and compares them with what ")
                .append("was uploaded; nothing is fused before every audit passed. A failed or unanswered audit ")
                .append("quarantines the participant.</p>\n");
        if (all.isEmpty()) {
            p.closeWith("No shard upload has been accepted yet.");
            return;
        }
        all.sort(Comparator.comparingLong(Status.AuditView::id).reversed());
        List<Status.AuditView> rows = all.size() > UPLOAD_ROWS ? all.subList(0, UPLOAD_ROWS) : all;
        p.out.append("<table>\n<thead><tr><th>audit</th><th>participant</th><th>shard</th><th>rows</th>")
                .append("<th>state</th><th>asked (UTC)</th><th>deadline</th><th>reason</th></tr></thead>\n<tbody>\n");
        for (Status.AuditView a : rows) {
            boolean failed = "failed".equals(a.state());
            p.out.append(failed ? "<tr class=\"refused\">" : "<tr>").append("<td class=\"n\">").append(a.id())
                    .append("</td><td>").append(p.who(a.participant())).append("</td><td class=\"n\">").append(a.shard())
                    .append("</td><td class=\"n\">").append(a.rows()).append("</td><td class=\"st\">")
                    .append(failed ? "✗ failed" : text(a.state())).append("</td><td class=\"t\">")
                    .append(utc(a.createdAt())).append("</td><td>")
                    .append("pending".equals(a.state()) ? leaseTime(a.deadline(), p.now) : "—").append("</td><td>")
                    .append(a.reason() == null ? "" : Html.escape(a.reason())).append("</td></tr>\n");
        }
        p.out.append("</tbody>\n</table>\n");
        p.close();
    }

    private static void uniformity(Page p, Status s) {
        List<Status.Rank> ranks = new ArrayList<>(list(s.uniformity()));
        ranks.sort(Comparator.comparingInt(Status.Rank::rank));
        p.open("uniformity", "Uniformity on the shared subset");
        if (ranks.isEmpty()) {
            p.out.append("<p class=\"note\">No participant has sent its outputs on the shared subset yet.</p>\n");
        } else {
            p.out.append("<p class=\"note\">Most uniform first, as the platform computes it from the uploaded ")
                    .append("outputs; the reference is the most uniform participant the screening trusts, the space ")
                    .append("the others are aligned to. Participants with the same outputs on S (the same prior) are ")
                    .append("all fused and count as one vote; with fewer than three independent priors the reference ")
                    .append("is unverified.</p>\n<table>\n<thead><tr><th>rank</th><th>participant</th><th>prior</th>")
                    .append("<th>uniformity</th><th>role</th></tr></thead>\n<tbody>\n");
            for (Status.Rank r : ranks) {
                p.out.append(r.reference() ? "<tr class=\"ref\">" : "<tr>").append("<td class=\"n\">").append(r.rank())
                        .append("</td><td>").append(p.who(r.participant())).append("</td><td><code>")
                        .append(text(r.prior())).append("</code></td><td class=\"n\">").append(decimal(r.uniformity()))
                        .append("</td><td>").append(r.reference() ? "<span class=\"tag\">reference</span>" : "aligned")
                        .append(r.reference() && !r.referenceVerified() ? " <span class=\"tag\">unverified</span>" : "")
                        .append(r.samePriorAs() == null ? "" : ", same prior as " + p.who(r.samePriorAs()))
                        .append("</td></tr>\n");
            }
            p.out.append("</tbody>\n</table>\n");
        }
        p.close();
    }

    private static void residuals(Page p, Status s) {
        Map<String, Double> residuals = s.fusion() == null ? null : s.fusion().residuals();
        p.open("residuals", "Alignment residuals");
        if (residuals == null || residuals.isEmpty()) {
            p.out.append("<p class=\"note\">Residuals are known after fusion.</p>\n");
        } else {
            String reference = list(s.uniformity()).stream().filter(Status.Rank::reference)
                    .map(Status.Rank::participant).findFirst().orElse(null);
            p.out.append("<p class=\"note\">Relative residual of each participant's alignment to the reference ")
                    .append("space, on the shared subset.</p>\n<table>\n<thead><tr><th>participant</th>")
                    .append("<th>relative residual</th></tr></thead>\n<tbody>\n");
            Comparator<Map.Entry<String, Double>> byName = Comparator.comparing(e -> p.name(e.getKey()));
            residuals.entrySet().stream().sorted(byName).forEach(e -> {
                boolean ref = e.getKey().equals(reference);
                p.out.append(ref ? "<tr class=\"ref\">" : "<tr>").append("<td>").append(p.who(e.getKey()))
                        .append(ref ? " <span class=\"tag\">reference</span>" : "").append("</td><td class=\"n\">")
                        .append(e.getValue() == null ? "—" : decimal(e.getValue())).append("</td></tr>\n");
            });
            p.out.append("</tbody>\n</table>\n");
        }
        p.close();
    }

    private static void fusion(Page p, Status s) {
        Status.Fusion f = s.fusion();
        p.open("fusion", "Fusion");
        if (f == null) {
            p.closeWith("Fusion has not been planned.");
            return;
        }
        String state = f.state() == null ? "unknown" : f.state();
        p.out.append("<dl>\n");
        p.pair("state", "<span class=\"state-" + Html.escape(state) + "\">" + Html.escape(state) + "</span>");
        p.pair("forced", f.forced() ? "yes: started with the shards accepted at the time" : "no");
        p.pair("started", f.startedAt() == null ? "—" : utc(f.startedAt()) + " UTC");
        p.pair("finished", f.finishedAt() == null ? "—" : utc(f.finishedAt()) + " UTC");
        if (f.startedAt() != null && f.finishedAt() != null) {
            p.pair("took", span(f.finishedAt() - f.startedAt()));
        }
        p.pair("rows", f.count() == null ? "—" : String.valueOf(f.count()));
        p.pair("dimension", f.dim() == null ? "—" : String.valueOf(f.dim()));
        if (f.error() != null) {
            p.pair("error", "<span class=\"state-failed\">" + Html.escape(f.error()) + "</span>");
        }
        p.out.append("</dl>\n");
        if ("done".equals(state)) {
            p.out.append("<p><a id=\"download\" href=\"/v1/dataset\">The fused dataset</a> (its files, as JSON). ")
                    .append("To download it all and verify it:</p>\n")
                    .append("<pre><code>coopt platform download --platform URL --out DIR</code></pre>\n")
                    .append("<p class=\"note\">where URL is this platform's URL (the address of this page without ")
                    .append("its path) and DIR a new directory.</p>\n");
        }
        p.close();
    }

    private static void timeline(Page p, Status s) {
        List<Status.Event> events = new ArrayList<>(list(s.events()));
        p.open("timeline", "Timeline");
        if (events.isEmpty()) {
            p.closeWith("Nothing has happened yet.");
            return;
        }
        // newest last in the status; a stable sort keeps that order among equal times before reversing
        events.sort(Comparator.comparingLong(Status.Event::at));
        List<Status.Event> rows = new ArrayList<>(events.subList(Math.max(0, events.size() - EVENT_ROWS),
                events.size()));
        Collections.reverse(rows);
        p.out.append("<p class=\"note\">Newest first");
        if (rows.size() < events.size()) {
            p.out.append(", the latest ").append(rows.size()).append(" of ").append(events.size());
        }
        p.out.append(".</p>\n<table>\n<thead><tr><th>at (UTC)</th><th>event</th><th>participant</th><th>shard</th>")
                .append("<th>detail</th></tr></thead>\n<tbody>\n");
        for (Status.Event e : rows) {
            p.out.append("<tr><td class=\"t\">").append(utc(e.at())).append("</td><td>").append(text(e.kind()))
                    .append("</td><td>")
                    .append(p.who(e.participant())).append("</td><td class=\"n\">")
                    .append(e.shard() == null ? "" : String.valueOf(e.shard())).append("</td><td>")
                    .append(e.detail() == null ? "" : Html.escape(e.detail())).append("</td></tr>\n");
        }
        p.out.append("</tbody>\n</table>\n");
        p.close();
    }

    /** The page being written, with what every section needs to resolve names and relative times. */
    private static final class Page {
        final StringBuilder out;
        final long now;
        final Map<String, String> names;

        Page(long now, Map<String, String> names, int capacity) {
            this.out = new StringBuilder(capacity);
            this.now = now;
            this.names = names;
        }

        void open(String id, String heading) {
            out.append("<section id=\"").append(id).append("\">\n<h2>").append(Html.escape(heading)).append("</h2>\n");
        }

        void close() {
            out.append("</section>\n");
        }

        /** Closes a section that has nothing to show but a note (plain text, escaped here). */
        void closeWith(String note) {
            out.append("<p class=\"note\">").append(Html.escape(note)).append("</p>\n");
            close();
        }

        /** A definition list entry; {@code html} is already escaped. */
        void pair(String term, String html) {
            out.append("<dt>").append(term).append("</dt><dd>").append(html).append("</dd>\n");
        }

        /** A participant's name (raw, for a title attribute that is escaped as a whole), or its id when unknown. */
        String name(String id) {
            return names.getOrDefault(id, id);
        }

        /** A participant shown by name, its id in the title; escaped. */
        String who(String id) {
            if (id == null) {
                return "—";
            }
            String name = names.get(id);
            return name == null ? "<code>" + Html.escape(id) + "</code>"
                    : "<span title=\"" + Html.escape(id) + "\">" + Html.escape(name) + "</span>";
        }
    }

    private static String cellClass(Status.ShardView v, long now) {
        String state = v.state() == null ? "" : v.state();
        return switch (state) {
            case "open" -> "o";
            case "accepted" -> "a";
            case "leased" -> v.leaseExpires() != null && v.leaseExpires() < now ? "e" : "l";
            default -> "x";
        };
    }

    /** "in 42 s" or "expired 3 s ago". */
    static String leaseTime(long expires, long now) {
        long delta = expires - now;
        return delta >= 0 ? "in " + span(delta) : "expired " + span(-delta) + " ago";
    }

    /** A duration, whole seconds below two minutes, then minutes, then hours. */
    static String span(long millis) {
        long seconds = Math.max(0, millis) / 1000;
        if (seconds < 120) {
            return seconds + " s";
        }
        if (seconds < 2 * 3600) {
            return seconds / 60 + " min " + seconds % 60 + " s";
        }
        return seconds / 3600 + " h " + seconds % 3600 / 60 + " min";
    }

    /** Epoch milliseconds as UTC ISO-8601 to the second, e.g. 2026-11-28T06:09:42Z. */
    static String utc(long millis) {
        return UTC.format(Instant.ofEpochMilli(millis).truncatedTo(ChronoUnit.SECONDS));
    }

    private static String shortHash(String hex) {
        return hex.length() > 12 ? hex.substring(0, 12) + "…" : hex;
    }

    private static String hash(String hex) {
        return hex == null ? "—" : "<code class=\"h\" title=\"" + Html.escape(hex) + "\">" + Html.escape(shortHash(hex)) + "</code>";
    }

    private static String decimal(double value) {
        return String.format(Locale.ROOT, "%.4f", value);
    }

    private static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static <T> List<T> list(List<T> l) {
        return l == null ? List.of() : l;
    }

    /** Escaped text, or a dash for null. */
    private static String text(Object value) {
        return value == null ? "—" : Html.escape(String.valueOf(value));
    }
}
