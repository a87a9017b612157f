package ai.coopt.platform.server;

import ai.coopt.platform.api.Status;
import ai.coopt.report.PageOutput;
import gg.jte.TemplateEngine;

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
 * <p>This class decides what the page shows and formats it into a {@link View} (times UTC ISO-8601 to the second, lease
 * expiries also relative to {@link Status#now()}, sort orders, the row limits below); the template
 * {@code src/main/jte/dashboard.jte} (with {@code who.jte} and {@code hash.jte}) only lays the view out. Every string
 * that came from a participant or from the data spec (names, priors, reasons, details, ids) is HTML-escaped there by
 * {@link PageOutput}.
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

    private static final TemplateEngine TEMPLATES = PageOutput.engine(Dashboard.class, "ai.coopt.platform.server");
    private static final DateTimeFormatter UTC = DateTimeFormatter.ISO_INSTANT;
    private static final List<String> STATE_ORDER = List.of("open", "leased", "accepted");

    private Dashboard() {}

    /** The whole page for this status. */
    public static String render(Status s) {
        Objects.requireNonNull(s, "status");
        return PageOutput.render(TEMPLATES, "dashboard.jte", view(s), 32 * 1024 + 64 * list(s.shards()).size());
    }

    // What the template shows, already formatted: strings are plain text (the template escapes them), "—" where a
    // value is unknown; a null Who is shown as a dash, a null Hash too.

    /** The page: its title, version and time, and one record a section. */
    record View(String title, String version, String at, int refresh, RoundSection round, RoundsSection rounds,
                ParticipantsSection participants, ShardsSection shards, UploadsSection uploads,
                AuditsSection audits, List<RankRow> uniformity, List<ResidualRow> residuals, FusionSection fusion,
                TimelineSection timeline) {}

    /** A participant: by name, its id in the title, or by id alone when its name is unknown. */
    record Who(String id, String name) {}

    /** A SHA-256 or fingerprint, shortened, the whole in the title. */
    record Hash(String hex, String shortened) {}

    /** {@code facts} is null before the round is planned. */
    record RoundSection(String heading, RoundFacts facts) {}

    record RoundFacts(int id, String data, String split, int count, int shards, int sharedCount, long seed,
                      int leaseSeconds, String align, String createdTerm, String created, Hash fingerprint) {}

    record RoundsSection(String heading, List<RoundRow> rows) {}

    /** {@code dataset} is the link to its fused dataset, null when there is none (or it is not the platform's). */
    record RoundRow(int id, boolean current, String opened, int accepted, int shards, String fusion, String dataset) {}

    record ParticipantsSection(String heading, List<ParticipantRow> rows) {}

    /** {@code prior} null: not reported yet; {@code quarantined} null: in good standing. */
    record ParticipantRow(String id, String name, String prior, int shardsAccepted, String enrolled,
                          String quarantined) {}

    /** {@code note} precedes the table; {@code rows} empty with cells: every shard is accepted. */
    record ShardsSection(String heading, List<StateCount> counts, List<Cell> grid, String note, List<ShardRow> rows) {}

    record StateCount(String state, int count) {}

    /** One shard of the grid: its colour class and its title. */
    record Cell(String cls, String title) {}

    /** {@code expires} null when not leased. */
    record ShardRow(int shard, int count, String state, Who holder, String expiresAt, String expires,
                    Who acceptedFrom, Hash sha256) {}

    /** {@code rows} empty: nothing uploaded yet. */
    record UploadsSection(String heading, String note, List<UploadRow> rows) {}

    record UploadRow(boolean refused, String at, Who participant, String of, String status, String rowsByDim,
                     long bytes, String size, Hash sha256, String reason) {}

    /** {@code rows} empty: no accepted upload yet. */
    record AuditsSection(String heading, List<AuditRow> rows) {}

    record AuditRow(boolean failed, long id, Who participant, int shard, int rows, String state, String asked,
                    String deadline, String reason) {}

    record RankRow(boolean reference, int rank, Who participant, String prior, String uniformity, boolean unverified,
                   Who samePriorAs) {}

    record ResidualRow(boolean reference, Who participant, String residual) {}

    /** Null when fusion is not planned; {@code took} null unless it started and finished. */
    record FusionSection(String state, boolean forced, String started, String finished, String took, String rows,
                         String dimension, String error, boolean download) {}

    /** {@code rows} empty: nothing happened yet. */
    record TimelineSection(String note, List<EventRow> rows) {}

    record EventRow(String at, String kind, Who participant, String shard, String detail) {}

    static View view(Status s) {
        Map<String, String> names = new HashMap<>();
        for (Status.ParticipantView p : list(s.participants())) {
            if (p.id() != null && p.name() != null) {
                names.put(p.id(), p.name());
            }
        }
        Names n = new Names(names);
        Status.Round r = s.round();
        String title = "CoOpt platform" + (r != null && r.data() != null ? " · " + r.data() : "");
        return new View(title, text(s.version()), utc(s.now()), REFRESH_SECONDS, round(r), rounds(s), participants(s),
                shards(s, n), uploads(s, n), audits(s, n), uniformity(s, n), residuals(s, n), fusion(s.fusion()),
                timeline(s, n));
    }

    private static RoundSection round(Status.Round r) {
        if (r == null) {
            return new RoundSection("Round", null);
        }
        return new RoundSection("Round " + r.id(), new RoundFacts(r.id(), text(r.data()), text(r.split()), r.count(),
                r.shards(), r.sharedCount(), r.seed(), r.leaseSeconds(), text(r.align()),
                r.id() == 1 ? "planned" : "opened", utc(r.createdAt()), hash(r.fingerprint())));
    }

    private static RoundsSection rounds(Status s) {
        List<Status.RoundRow> all = list(s.rounds());
        int current = s.round() == null ? -1 : s.round().id();
        List<RoundRow> rows = new ArrayList<>(all.size());
        for (int i = all.size() - 1; i >= 0; i--) {
            Status.RoundRow r = all.get(i);
            boolean link = r.dataset() != null && r.dataset().matches("/v1/dataset\\?round=[0-9]+");
            rows.add(new RoundRow(r.id(), r.id() == current, utc(r.createdAt()), r.accepted(), r.shards(),
                    r.fusion() == null ? "unknown" : r.fusion(), link ? r.dataset() : null));
        }
        return new RoundsSection("Rounds (" + all.size() + ")", rows);
    }

    private static ParticipantsSection participants(Status s) {
        List<Status.ParticipantView> all = list(s.participants());
        List<ParticipantRow> rows = all.stream().map(v -> new ParticipantRow(text(v.id()), text(v.name()), v.prior(),
                v.shardsAccepted(), utc(v.enrolledAt()), v.quarantined())).toList();
        return new ParticipantsSection("Participants (" + all.size() + ")", rows);
    }

    private static ShardsSection shards(Status s, Names n) {
        List<Status.ShardView> all = new ArrayList<>(list(s.shards()));
        all.sort(Comparator.comparingInt(Status.ShardView::shard));
        Map<String, Integer> counts = new LinkedHashMap<>();
        if (s.shardsByState() != null) {
            STATE_ORDER.forEach(state -> counts.put(state, s.shardsByState().getOrDefault(state, 0)));
            s.shardsByState().keySet().stream().filter(k -> !counts.containsKey(k)).sorted()
                    .forEach(k -> counts.put(k, s.shardsByState().get(k)));
        } else {
            STATE_ORDER.forEach(state -> counts.put(state, 0));
            all.forEach(v -> counts.merge(String.valueOf(v.state()), 1, Integer::sum));
        }
        List<StateCount> byState = new ArrayList<>();
        counts.forEach((state, count) -> byState.add(new StateCount(state, count == null ? 0 : count)));
        String heading = "Shards (" + all.size() + ")";
        if (all.isEmpty()) {
            return new ShardsSection(heading, byState, List.of(), null, List.of());
        }
        List<Cell> grid = new ArrayList<>(all.size());
        for (Status.ShardView v : all) {
            StringBuilder title = new StringBuilder("shard ").append(v.shard()).append(": ").append(v.state());
            if (v.leaseHolder() != null) {
                title.append(" by ").append(n.name(v.leaseHolder()));
                if (v.leaseExpires() != null) {
                    title.append(", ").append(leaseTime(v.leaseExpires(), s.now()));
                }
            } else if (v.acceptedFrom() != null) {
                title.append(" from ").append(n.name(v.acceptedFrom()));
            }
            grid.add(new Cell(cellClass(v, s.now()), title.toString()));
        }

        List<Status.ShardView> shown;
        String note;
        if (all.size() <= FULL_SHARD_TABLE) {
            shown = all;
            note = "Every shard:";
        } else {
            List<Status.ShardView> leased = new ArrayList<>();
            List<Status.ShardView> others = new ArrayList<>();
            for (Status.ShardView v : all) {
                if (!"accepted".equals(v.state())) {
                    ("leased".equals(v.state()) ? leased : others).add(v);
                }
            }
            leased.sort(Comparator.comparingLong(v -> v.leaseExpires() == null ? Long.MAX_VALUE : v.leaseExpires()));
            shown = new ArrayList<>(leased.subList(0, Math.min(SHARD_ROWS, leased.size())));
            shown.addAll(others.subList(0, Math.min(OPEN_ROWS, others.size())));
            note = "Leased shards, soonest expiry first"
                    + (leased.size() > SHARD_ROWS ? " (the first " + SHARD_ROWS + " of " + leased.size() + ")" : "")
                    + ", then the next open ones"
                    + (others.size() > OPEN_ROWS ? " (" + OPEN_ROWS + " of " + others.size() + ")" : "")
                    + "; accepted shards are in the grid only.";
        }
        List<ShardRow> rows = shown.stream().map(v -> new ShardRow(v.shard(), v.count(), text(v.state()),
                n.who(v.leaseHolder()), v.leaseExpires() == null ? null : utc(v.leaseExpires()),
                v.leaseExpires() == null ? null : leaseTime(v.leaseExpires(), s.now()), n.who(v.acceptedFrom()),
                hash(v.sha256()))).toList();
        return new ShardsSection(heading, byState, grid, note, rows);
    }

    private static UploadsSection uploads(Status s, Names n) {
        List<Status.UploadView> all = new ArrayList<>(list(s.uploads()));
        // the totals when the platform sent them (the list holds only the newest uploads)
        long accepted = s.uploadTotals() != null ? s.uploadTotals().getOrDefault("accepted", 0L)
                : all.stream().filter(u -> "accepted".equals(u.status())).count();
        long refused = s.uploadTotals() != null ? s.uploadTotals().getOrDefault("refused", 0L)
                : all.stream().filter(u -> "refused".equals(u.status())).count();
        all.sort(Comparator.comparingLong(Status.UploadView::at).thenComparingLong(Status.UploadView::id).reversed());
        List<Status.UploadView> shown = all.size() > UPLOAD_ROWS ? all.subList(0, UPLOAD_ROWS) : all;
        List<UploadRow> rows = shown.stream().map(u -> new UploadRow("refused".equals(u.status()), utc(u.at()),
                n.who(u.participant()), u.shard() == null ? "shared subset" : "shard " + u.shard(), text(u.status()),
                u.rows() == null ? "—" : u.rows() + " × " + (u.dim() == null ? "?" : u.dim()), u.bytes(),
                bytes(u.bytes()), hash(u.sha256()), u.reason())).toList();
        return new UploadsSection("Uploads (" + accepted + " accepted, " + refused + " refused)",
                newestFirst(rows.size(), accepted + refused), rows);
    }

    private static AuditsSection audits(Status s, Names n) {
        List<Status.AuditView> all = new ArrayList<>(list(s.audits()));
        Map<String, Long> byState = new LinkedHashMap<>();
        for (String state : List.of("pending", "passed", "failed")) {
            byState.put(state, all.stream().filter(a -> state.equals(a.state())).count());
        }
        all.sort(Comparator.comparingLong(Status.AuditView::id).reversed());
        List<Status.AuditView> shown = all.size() > UPLOAD_ROWS ? all.subList(0, UPLOAD_ROWS) : all;
        List<AuditRow> rows = shown.stream().map(a -> new AuditRow("failed".equals(a.state()), a.id(),
                n.who(a.participant()), a.shard(), a.rows(), text(a.state()), utc(a.createdAt()),
                "pending".equals(a.state()) ? leaseTime(a.deadline(), s.now()) : "—", a.reason())).toList();
        return new AuditsSection("Audits (" + byState.get("passed") + " passed, " + byState.get("failed") + " failed, "
                + byState.get("pending") + " pending)", rows);
    }

    private static List<RankRow> uniformity(Status s, Names n) {
        List<Status.Rank> ranks = new ArrayList<>(list(s.uniformity()));
        ranks.sort(Comparator.comparingInt(Status.Rank::rank));
        return ranks.stream().map(r -> new RankRow(r.reference(), r.rank(), n.who(r.participant()), text(r.prior()),
                decimal(r.uniformity()), r.reference() && !r.referenceVerified(), n.who(r.samePriorAs()))).toList();
    }

    private static List<ResidualRow> residuals(Status s, Names n) {
        Map<String, Double> residuals = s.fusion() == null ? null : s.fusion().residuals();
        if (residuals == null) {
            return List.of();
        }
        String reference = list(s.uniformity()).stream().filter(Status.Rank::reference)
                .map(Status.Rank::participant).findFirst().orElse(null);
        Comparator<Map.Entry<String, Double>> byName = Comparator.comparing(e -> n.name(e.getKey()));
        return residuals.entrySet().stream().sorted(byName).map(e -> new ResidualRow(e.getKey().equals(reference),
                n.who(e.getKey()), e.getValue() == null ? "—" : decimal(e.getValue()))).toList();
    }

    private static FusionSection fusion(Status.Fusion f) {
        if (f == null) {
            return null;
        }
        String state = f.state() == null ? "unknown" : f.state();
        return new FusionSection(state, f.forced(), f.startedAt() == null ? "—" : utc(f.startedAt()) + " UTC",
                f.finishedAt() == null ? "—" : utc(f.finishedAt()) + " UTC",
                f.startedAt() != null && f.finishedAt() != null ? span(f.finishedAt() - f.startedAt()) : null,
                f.count() == null ? "—" : String.valueOf(f.count()), f.dim() == null ? "—" : String.valueOf(f.dim()),
                f.error(), "done".equals(state));
    }

    private static TimelineSection timeline(Status s, Names n) {
        List<Status.Event> events = new ArrayList<>(list(s.events()));
        // newest last in the status; a stable sort keeps that order among equal times before reversing
        events.sort(Comparator.comparingLong(Status.Event::at));
        List<Status.Event> shown = new ArrayList<>(events.subList(Math.max(0, events.size() - EVENT_ROWS),
                events.size()));
        Collections.reverse(shown);
        List<EventRow> rows = shown.stream().map(e -> new EventRow(utc(e.at()), text(e.kind()), n.who(e.participant()),
                e.shard() == null ? "" : String.valueOf(e.shard()), e.detail())).toList();
        return new TimelineSection(newestFirst(rows.size(), events.size()), rows);
    }

    /** "Newest first." or, when the table leaves some out, "Newest first, the latest 100 of 400." */
    private static String newestFirst(long shown, long total) {
        return "Newest first" + (shown < total ? ", the latest " + shown + " of " + total : "") + ".";
    }

    /** Participants' names by id. */
    private record Names(Map<String, String> names) {
        /** A participant's name, or its id when unknown. */
        String name(String id) {
            return names.getOrDefault(id, id);
        }

        Who who(String id) {
            return id == null ? null : new Who(id, names.get(id));
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

    private static Hash hash(String hex) {
        return hex == null ? null : new Hash(hex, shortHash(hex));
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

    /** The text, or a dash for null. */
    private static String text(Object value) {
        return value == null ? "—" : String.valueOf(value);
    }
}
