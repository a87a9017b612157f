package ai.coopt.platform.server;

import ai.coopt.platform.api.Status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class DashboardTest {

    private static final long NOW = Instant.parse("2026-11-28T06:00:00Z").toEpochMilli();
    private static final String EVIL = "<script>alert(1)</script>";
    private static final List<String> SECTIONS = List.of("round", "rounds", "participants", "shards", "uploads",
            "audits", "uniformity", "residuals", "fusion", "timeline");

    private static Status status(Status.Fusion fusion) {
        Status.Round round = new Status.Round(1, "idx:/data/fashion<mnist>", "train", 60000,
                "0123456789abcdef0123456789abcdef", 6, 1000, 42L, 300, "ridge", NOW - 3_600_000);
        List<Status.ParticipantView> participants = List.of(
                new Status.ParticipantView("p-alice", "alice", NOW - 3_000_000, "zoo:resnet18", 2, null, null),
                new Status.ParticipantView("p-bob", "bob", NOW - 2_000_000, null, 0, null, null),
                new Status.ParticipantView("p-evil", EVIL, NOW - 1_000_000, "random:x\" onmouseover=\"alert(2)", 1,
                        "audit of shard 1 failed: 3 of <b>160</b> rows differ", NOW - 500_000));
        List<Status.ShardView> shards = List.of(
                new Status.ShardView(0, 10000, "aa".repeat(32), "accepted", null, null, "p-alice"),
                new Status.ShardView(1, 10000, "bb".repeat(32), "accepted", null, null, "p-evil"),
                new Status.ShardView(2, 10000, "cc".repeat(32), "leased", "p-alice", NOW + 42_000, null),
                new Status.ShardView(3, 10000, "dd".repeat(32), "leased", "p-evil", NOW - 3_000, null),
                new Status.ShardView(4, 10000, "ee".repeat(32), "open", null, null, null),
                new Status.ShardView(5, 10000, "ff".repeat(32), "accepted", null, null, "p-alice"));
        Map<String, Integer> byState = new LinkedHashMap<>();
        byState.put("open", 1);
        byState.put("leased", 2);
        byState.put("accepted", 3);
        List<Status.UploadView> uploads = List.of(
                new Status.UploadView(1, "p-alice", null, "accepted", null, 512_000, 1000, 128, "11".repeat(32),
                        NOW - 900_000),
                new Status.UploadView(2, "p-alice", 0, "accepted", null, 5_120_000, 10000, 128, "22".repeat(32),
                        NOW - 800_000),
                new Status.UploadView(3, "p-evil", 1, "refused", "ids <b>missing</b>: 17 & 18", 77, null, null, null,
                        NOW - 700_000),
                new Status.UploadView(4, "p-evil", 1, "accepted", null, 5_120_000, 10000, 128, "33".repeat(32),
                        NOW - 600_000));
        List<Status.Rank> ranks = List.of(
                new Status.Rank(2, "p-evil", "random:x\" onmouseover=\"alert(2)", 0.41, false, false, "p-alice"),
                new Status.Rank(1, "p-alice", "zoo:resnet18", 0.83, true, false, null));
        List<Status.Event> events = List.of(
                new Status.Event(NOW - 950_000, "lease", "p-alice", 0, "first event"),
                new Status.Event(NOW - 700_000, "upload", "p-evil", 1, "refused: <img src=x onerror=alert(3)>"),
                new Status.Event(NOW - 10_000, "lease", "p-alice", 2, "latest event"));
        List<Status.AuditView> audits = List.of(
                new Status.AuditView(1, "p-alice", 0, 2, 160, "passed", null, NOW - 800_000, NOW - 200_000, NOW - 790_000),
                new Status.AuditView(2, "p-evil", 1, 4, 160, "failed", "3 of <b>160</b> rows differ", NOW - 600_000,
                        NOW, NOW - 500_000),
                new Status.AuditView(3, "p-alice", 5, 5, 160, "pending", null, NOW - 10_000, NOW + 590_000, null));
        List<Status.RoundRow> rounds = List.of(new Status.RoundRow(1, NOW - 3_600_000, 6, 3, fusion.state(),
                NOW - 60_000, fusion.state().equals("done") ? "/v1/dataset?round=1" : null));
        return new Status("0.1.0-SNAPSHOT", NOW, round, rounds, participants, byState, shards, uploads, null, audits,
                ranks, fusion, events);
    }

    private static Status.Fusion waiting() {
        return new Status.Fusion("waiting", false, null, null, null, null, Map.of(), null, null);
    }

    private static Status.Fusion done() {
        Map<String, Double> residuals = new LinkedHashMap<>();
        residuals.put("p-alice", 0.0);
        residuals.put("p-evil", 0.1234);
        return new Status.Fusion("done", true, NOW - 120_000, NOW - 60_000, 60000, 128, residuals, "/v1/dataset",
                null);
    }

    /** The text of one section, from its opening tag to its end. */
    private static String section(String html, String id) {
        int start = html.indexOf("<section id=\"" + id + "\">");
        assertTrue(start >= 0, "no section " + id);
        int end = html.indexOf("</section>", start);
        assertTrue(end > start, "section " + id + " is not closed");
        return html.substring(start, end);
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) {
            n++;
        }
        return n;
    }

    @Test
    void everySectionOnceAndTheTagsBalance() {
        String html = Dashboard.render(status(waiting()));
        assertTrue(html.startsWith("<!DOCTYPE html>\n<html lang=\"en\">"));
        for (String id : SECTIONS) {
            assertEquals(1, count(html, "id=\"" + id + "\""), id);
            section(html, id);
        }
        for (String tag : List.of("section", "table", "tr", "td", "dl", "code", "span", "p")) {
            assertEquals(count(html, "<" + tag + ">") + count(html, "<" + tag + " "), count(html, "</" + tag + ">"),
                    "<" + tag + "> opened and closed");
        }
    }

    @Test
    void refreshesItselfAndIsSelfContainedWithoutScript() {
        for (Status s : List.of(status(waiting()), status(done()))) {
            String html = Dashboard.render(s);
            assertTrue(html.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
            String lower = html.toLowerCase(Locale.ROOT);
            assertFalse(lower.contains("<script"), "a script tag");
            assertFalse(lower.contains("javascript:"));
            assertFalse(Pattern.compile("\\son[a-z]+=\"").matcher(lower).find(), "an event handler attribute");
            assertFalse(lower.contains("src=\""), "an external resource");
            assertFalse(lower.contains("url("), "a CSS resource");
            assertFalse(lower.contains("@import"));
            Matcher href = Pattern.compile("href=\"([^\"]*)\"").matcher(html);
            while (href.find()) {
                String target = href.group(1);
                assertTrue(target.startsWith("#") || target.equals("/v1/dataset") || target.matches("/v1/dataset\\?round=[0-9]+")
                        || target.equals("data:,"),
                        "a link out of the platform: " + target);
            }
        }
    }

    @Test
    void participantTextIsEscaped() {
        String html = Dashboard.render(status(done()));
        assertFalse(html.contains(EVIL));
        assertFalse(html.contains("<img"));
        assertFalse(html.contains("<b>missing"));
        assertFalse(html.contains("fashion<mnist>"));
        assertTrue(section(html, "participants").contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assertTrue(section(html, "participants").contains("random:x&quot; onmouseover=&quot;alert(2)"));
        assertTrue(section(html, "uploads").contains("ids &lt;b&gt;missing&lt;/b&gt;: 17 &amp; 18"));
        assertTrue(section(html, "timeline").contains("refused: &lt;img src=x onerror=alert(3)&gt;"));
        assertTrue(section(html, "round").contains("idx:/data/fashion&lt;mnist&gt;"));
        // the name is escaped in titles too (the shard grid shows holders by name)
        assertTrue(section(html, "shards").contains("by &lt;script&gt;alert(1)&lt;/script&gt;, expired 3 s ago"));
    }

    @Test
    void aHostileParticipantNameIsEscapedEverywhereItIsShown() {
        String evil = "<script>alert(1)</script>\"'&";
        String e = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;";
        String id = "id" + evil;
        String eid = "id" + e;
        Status.Round round = new Status.Round(1, evil, "train", 60000, "0123456789abcdef", 2, 1000, 42L, 300,
                "ridge", NOW - 3_600_000);
        List<Status.ParticipantView> participants = List.of(
                new Status.ParticipantView(id, evil, NOW - 3_000_000, evil, 1, evil, NOW - 500_000));
        List<Status.ShardView> shards = List.of(
                new Status.ShardView(0, 10000, "aa".repeat(32), "leased", id, NOW + 42_000, null),
                new Status.ShardView(1, 10000, "bb".repeat(32), "accepted", null, null, id));
        List<Status.UploadView> uploads = List.of(
                new Status.UploadView(1, id, 1, "refused", evil, 77, null, null, null, NOW - 700_000));
        List<Status.AuditView> audits = List.of(
                new Status.AuditView(1, id, 1, 1, 160, "failed", evil, NOW - 600_000, NOW, NOW - 500_000));
        List<Status.Rank> ranks = List.of(new Status.Rank(1, id, evil, 0.5, true, true, id));
        Map<String, Double> residuals = Map.of(id, 0.25);
        Status.Fusion fusion = new Status.Fusion("failed", false, NOW - 5_000, NOW - 1_000, null, null, residuals,
                null, evil);
        List<Status.Event> events = List.of(
                new Status.Event(NOW - 20_000, "upload", id, 1, evil),
                new Status.Event(NOW - 10_000, "lease", "unknown" + evil, 0, evil));
        String html = Dashboard.render(new Status(evil, NOW, round, null, participants, null, shards, uploads, null,
                audits, ranks, fusion, events));

        assertFalse(html.contains(evil) || html.contains("<script") || html.contains("\"'&"), "raw text");
        assertEquals(count(html, "alert(1)"), count(html, e), "alert(1) only ever escaped");
        assertTrue(html.contains("<title>CoOpt platform · " + e + "</title>"));
        assertTrue(html.contains("<h1>CoOpt platform · " + e + "</h1>"));
        assertTrue(html.contains("<p class=\"note\">Version " + e + " · "));
        assertTrue(section(html, "round").contains("<dd><code>" + e + "</code></dd>"));
        String who = "<span title=\"" + eid + "\">" + e + "</span>";
        assertTrue(section(html, "participants").contains("<tr data-participant=\"" + eid + "\" class=\"refused\"><td>" + e
                + "</td><td><code>" + eid + "</code></td><td><code>" + e + "</code></td>"));
        assertTrue(section(html, "participants").contains("✗ quarantined: " + e + " (its rows"));
        String shardSection = section(html, "shards");
        assertTrue(shardSection.contains("title=\"shard 0: leased by " + e + ", in 42 s\""));
        assertTrue(shardSection.contains("title=\"shard 1: accepted from " + e + "\""));
        assertEquals(2, count(shardSection, "<td>" + who + "</td>"), "lease holder and accepted from");
        assertTrue(section(html, "uploads").contains("<td>" + who + "</td>"));
        assertTrue(section(html, "uploads").contains("<td>" + e + "</td></tr>"), "the reason");
        assertTrue(section(html, "audits").contains("<td>" + who + "</td>"));
        assertTrue(section(html, "audits").contains("<td>" + e + "</td></tr>"), "the reason");
        assertTrue(section(html, "uniformity").contains("<td>" + who + "</td><td><code>" + e + "</code></td>"));
        assertTrue(section(html, "uniformity").contains(", same prior as " + who + "</td>"));
        assertTrue(section(html, "residuals").contains("<td>" + who + " <span class=\"tag\">reference</span></td>"));
        assertTrue(section(html, "fusion").contains("<span class=\"state-failed\">" + e + "</span>"));
        String timeline = section(html, "timeline");
        assertTrue(timeline.contains("<td>" + who + "</td><td class=\"n\">1</td><td>" + e + "</td>"));
        assertTrue(timeline.contains("<td><code>unknown" + e + "</code></td><td class=\"n\">0</td><td>" + e + "</td>"),
                "a participant without a name, by its id");
    }

    @Test
    void roundAndParticipants() {
        String html = Dashboard.render(status(waiting()));
        String round = section(html, "round");
        for (String fact : List.of("train", "60000", "1000 images", "<dd>42</dd>", "300 s", "0123456789ab…",
                "2026-11-28T05:00:00Z")) {
            assertTrue(round.contains(fact), fact);
        }
        String participants = section(html, "participants");
        assertEquals(3, count(participants, "<tr data-participant="));
        assertTrue(participants.contains("<tr data-participant=\"p-alice\"><td>alice</td><td><code>p-alice</code>"
                + "</td><td><code>zoo:resnet18</code></td><td class=\"n\">2</td>"
                + "<td class=\"t\">2026-11-28T05:10:00Z</td><td>good</td></tr>"));
        assertTrue(participants.contains("not reported yet"));
        assertTrue(html.contains("status at 2026-11-28T06:00:00Z UTC"));
    }

    @Test
    void shardsShowStatesHoldersAndExpiries() {
        String shards = section(Dashboard.render(status(waiting())), "shards");
        assertTrue(shards.contains("<span data-state=\"open\"><strong>1</strong> open</span>"));
        assertTrue(shards.contains("<span data-state=\"leased\"><strong>2</strong> leased</span>"));
        assertTrue(shards.contains("<span data-state=\"accepted\"><strong>3</strong> accepted</span>"));
        assertEquals(6, count(shards, "<tr data-shard="), "a small round lists every shard");
        Matcher leased = Pattern.compile("<tr data-shard=\"2\">.*</tr>").matcher(shards);
        assertTrue(leased.find());
        assertTrue(leased.group().contains("<span title=\"p-alice\">alice</span>"));
        assertTrue(leased.group().contains(">in 42 s</span>"));
        Matcher expired = Pattern.compile("<tr data-shard=\"3\">.*</tr>").matcher(shards);
        assertTrue(expired.find());
        assertTrue(expired.group().contains(">expired 3 s ago</span>"));
        // the grid: one cell a shard, an expired lease coloured apart from a live one
        assertEquals(6, count(shards.substring(shards.indexOf("<div class=\"grid\"")), "<span class="));
        assertTrue(shards.contains("<span class=\"l\" title=\"shard 2: leased by alice, in 42 s\"></span>"));
        assertTrue(shards.contains("<span class=\"e\" title=\"shard 3: leased by"));
        assertTrue(shards.contains("<span class=\"a\" title=\"shard 0: accepted from alice\"></span>"));
    }

    @Test
    void leaseTimesAreRelativeToNow() {
        assertEquals("in 42 s", Dashboard.leaseTime(NOW + 42_000, NOW));
        assertEquals("expired 3 s ago", Dashboard.leaseTime(NOW - 3_000, NOW));
        assertEquals("in 5 min 0 s", Dashboard.leaseTime(NOW + 300_000, NOW));
        assertEquals("expired 2 h 5 min ago", Dashboard.leaseTime(NOW - 7_500_000, NOW));
        assertEquals("2026-11-28T06:00:00Z", Dashboard.utc(NOW + 999));
    }

    @Test
    void refusedUploadsAreMarkedWithTheirReason() {
        String uploads = section(Dashboard.render(status(waiting())), "uploads");
        assertTrue(uploads.contains("3 accepted, 1 refused"));
        Matcher refused = Pattern.compile("<tr class=\"refused\">.*</tr>").matcher(uploads);
        assertTrue(refused.find());
        assertTrue(refused.group().contains("✗ refused"));
        assertTrue(refused.group().contains("ids &lt;b&gt;missing&lt;/b&gt;"));
        assertFalse(refused.find(), "only the refused upload is marked");
        assertTrue(uploads.contains("shared subset"));
        assertTrue(uploads.contains("10000 × 128"));
        // newest first
        assertTrue(uploads.indexOf("2026-11-28T05:50:00Z") < uploads.indexOf("2026-11-28T05:45:00Z"));
    }

    @Test
    void auditsAndQuarantineAreShownWithTheirReasonsEscaped() {
        String html = Dashboard.render(status(waiting()));
        String audits = section(html, "audits");
        assertTrue(audits.contains("1 passed, 1 failed, 1 pending"), audits);
        Matcher failed = Pattern.compile("<tr class=\"refused\">.*</tr>").matcher(audits);
        assertTrue(failed.find());
        assertTrue(failed.group().contains("✗ failed") && failed.group().contains("3 of &lt;b&gt;160&lt;/b&gt; rows differ"));
        assertFalse(failed.find(), "only the failed audit is marked");
        assertTrue(audits.contains("in 9 min") || audits.contains("9 min"), "a pending audit shows its deadline: " + audits);
        String participants = section(html, "participants");
        Matcher quarantined = Pattern.compile("<tr data-participant=\"p-evil\" class=\"refused\">.*?</tr>",
                Pattern.DOTALL).matcher(participants);
        assertTrue(quarantined.find(), participants);
        assertTrue(quarantined.group().contains("✗ quarantined: audit of shard 1 failed"));
        assertFalse(participants.contains("<b>160</b>"), "escaped");
        assertEquals(2, count(participants, "<td>good</td>"));
    }

    @Test
    void uniformityMarksTheReference() {
        String uniformity = section(Dashboard.render(status(waiting())), "uniformity");
        Matcher ref = Pattern.compile("<tr class=\"ref\">.*</tr>").matcher(uniformity);
        assertTrue(ref.find());
        assertTrue(ref.group().contains("alice") && ref.group().contains("reference"));
        assertTrue(ref.group().contains("0.8300"));
        assertTrue(ref.group().contains("<span class=\"tag\">unverified</span>"), "fewer than three independent priors");
        assertFalse(ref.find());
        assertTrue(uniformity.contains("aligned, same prior as <span title=\"p-alice\">alice</span>"), uniformity);
        assertTrue(uniformity.indexOf("0.8300") < uniformity.indexOf("0.4100"), "ranked, most uniform first");
    }

    @Test
    void roundsShowTheCurrentOneAndEveryFinishedRoundsDataset() {
        Status base = status(waiting());
        Status.Round r = base.round();
        Status.Round second = new Status.Round(2, r.data(), r.split(), r.count(), r.fingerprint(), r.shards(),
                r.sharedCount(), r.seed(), r.leaseSeconds(), r.align(), NOW - 600_000);
        List<Status.RoundRow> rounds = List.of(
                new Status.RoundRow(1, NOW - 3_600_000, 6, 6, "done", NOW - 900_000, "/v1/dataset?round=1"),
                new Status.RoundRow(2, NOW - 600_000, 6, 3, "waiting", NOW - 600_000, null));
        Status two = new Status(base.version(), NOW, second, rounds, base.participants(), base.shardsByState(),
                base.shards(), base.uploads(), base.uploadTotals(), base.audits(), base.uniformity(), base.fusion(),
                base.events());
        String html = Dashboard.render(two);
        String round = section(html, "round");
        assertTrue(round.contains("<h2>Round 2</h2>"), round);
        assertTrue(round.contains("<strong id=\"current-round\">2</strong>"), round);
        assertTrue(round.contains("<dt>opened</dt><dd>2026-11-28T05:50:00Z</dd>"), round);
        String table = section(html, "rounds");
        assertTrue(table.contains("<h2>Rounds (2)</h2>"), table);
        assertEquals(2, count(table, "<tr data-round="));
        assertTrue(table.indexOf("<tr data-round=\"2\"") < table.indexOf("<tr data-round=\"1\""), "newest first");
        assertTrue(table.contains("<tr data-round=\"2\" class=\"ref\"><td class=\"n\">2 <span class=\"tag\">current</span>"));
        assertTrue(table.contains("<td class=\"n\">6 / 6</td><td><span class=\"state-done\">done</span></td>"
                + "<td><a href=\"/v1/dataset?round=1\">round 1's dataset</a></td>"), table);
        assertTrue(table.contains("<td class=\"n\">3 / 6</td><td><span class=\"state-waiting\">waiting</span></td>"
                + "<td><span class=\"note\">not fused yet</span></td>"), table);
        assertTrue(table.contains("coopt platform next-round --dir DIR"));
        // the current round waits: no download in its fusion section, only round 1's in the table
        assertFalse(section(html, "fusion").contains("/v1/dataset"));
        // a dataset link that is not the platform's own route is not rendered as a link
        Status odd = new Status(base.version(), NOW, second, List.of(new Status.RoundRow(1, NOW, 6, 6, "done", NOW,
                "javascript:alert(1)")), null, null, null, null, null, null, null, null, null);
        assertFalse(Dashboard.render(odd).contains("javascript:"));
    }

    @Test
    void beforeFusionNoDownloadAndNoResiduals() {
        String html = Dashboard.render(status(waiting()));
        assertTrue(section(html, "residuals").contains("Residuals are known after fusion."));
        assertFalse(section(html, "residuals").contains("<table"));
        String fusion = section(html, "fusion");
        assertTrue(fusion.contains("<span class=\"state-waiting\">waiting</span>"));
        assertTrue(fusion.contains("<dt>forced</dt><dd>no</dd>"));
        assertFalse(html.contains("/v1/dataset"));
        assertFalse(html.contains("coopt platform download"));
    }

    @Test
    void afterFusionResidualsAndTheDownload() {
        String html = Dashboard.render(status(done()));
        String residuals = section(html, "residuals");
        assertFalse(residuals.contains("after fusion"));
        assertEquals(2, count(residuals, "<tr") - 1);
        assertTrue(residuals.contains("0.1234"));
        assertTrue(residuals.contains("<tr class=\"ref\"><td><span title=\"p-alice\">alice</span> "
                + "<span class=\"tag\">reference</span></td><td class=\"n\">0.0000</td></tr>"));
        String fusion = section(html, "fusion");
        assertTrue(fusion.contains("<span class=\"state-done\">done</span>"));
        assertTrue(fusion.contains("<dt>forced</dt><dd>yes"));
        assertTrue(fusion.contains("2026-11-28T05:58:00Z UTC") && fusion.contains("2026-11-28T05:59:00Z UTC"));
        assertTrue(fusion.contains("<dt>took</dt><dd>60 s</dd>"));
        assertTrue(fusion.contains("<dd>60000</dd>") && fusion.contains("<dd>128</dd>"));
        assertTrue(fusion.contains("<a id=\"download\" href=\"/v1/dataset\">"));
        assertTrue(fusion.contains("coopt platform download --platform URL --out DIR"));
        assertTrue(fusion.contains("where URL is this platform's URL"));
    }

    @Test
    void failedFusionShowsItsErrorEscaped() {
        Status.Fusion failed = new Status.Fusion("failed", false, NOW - 5_000, NOW - 1_000, null, null, null, null,
                "rank <deficient>");
        String fusion = section(Dashboard.render(status(failed)), "fusion");
        assertTrue(fusion.contains("rank &lt;deficient&gt;"));
        assertFalse(fusion.contains("/v1/dataset"));
    }

    @Test
    void timelineNewestFirst() {
        String timeline = section(Dashboard.render(status(waiting())), "timeline");
        assertEquals(3, count(timeline, "<tr><td class=\"t\">"));
        assertTrue(timeline.indexOf("latest event") < timeline.indexOf("refused:"));
        assertTrue(timeline.indexOf("refused:") < timeline.indexOf("first event"));
    }

    @Test
    void timelineIsLimited() {
        Status base = status(waiting());
        List<Status.Event> events = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            events.add(new Status.Event(NOW - 400_000 + i * 1000L, "lease", "p-bob", i, "event " + i + "."));
        }
        Status many = new Status(base.version(), NOW, base.round(), base.rounds(), base.participants(), base.shardsByState(),
                base.shards(), base.uploads(), base.uploadTotals(), base.audits(), base.uniformity(), base.fusion(),
                events);
        String timeline = section(Dashboard.render(many), "timeline");
        assertEquals(Dashboard.EVENT_ROWS, count(timeline, "<tr><td class=\"t\">"));
        assertTrue(timeline.contains("event 399.") && timeline.contains("event 300."));
        assertFalse(timeline.contains("event 299."));
        assertTrue(timeline.contains("the latest 100 of 400"));
    }

    @Test
    void aNewPlatformWithNothingYetRendersEverySection() {
        Status empty = new Status("0.1.0", NOW, null, null, null, null, null, null, null, null, null, null, null);
        String html = Dashboard.render(empty);
        for (String id : SECTIONS) {
            section(html, id);
        }
        assertTrue(section(html, "participants").contains("No participant has enrolled yet."));
        assertTrue(section(html, "residuals").contains("Residuals are known after fusion."));
    }

    @Test
    void fiveThousandShardsStayUsable() {
        Status base = status(waiting());
        List<Status.ShardView> shards = new ArrayList<>();
        Map<String, Integer> byState = new LinkedHashMap<>();
        for (int i = 0; i < 5000; i++) {
            String state = i % 3 == 0 ? "accepted" : i % 3 == 1 ? "leased" : "open";
            byState.merge(state, 1, Integer::sum);
            shards.add(new Status.ShardView(i, 12, String.format("%064x", i), state,
                    state.equals("leased") ? "p-evil" : null, state.equals("leased") ? NOW + i * 100L : null,
                    state.equals("accepted") ? "p-alice" : null));
        }
        List<Status.UploadView> uploads = new ArrayList<>();
        for (int i = 0; i < 5000; i += 3) {
            uploads.add(new Status.UploadView(i, "p-alice", i, "accepted", null, 6_200, 12, 128, "ab".repeat(32),
                    NOW - 5000 + i));
        }
        Status big = new Status(base.version(), NOW, base.round(), base.rounds(), base.participants(), byState, shards, uploads,
                null, base.audits(), base.uniformity(), base.fusion(), base.events());
        String html = Dashboard.render(big);
        int size = html.getBytes(StandardCharsets.UTF_8).length;
        assertTrue(size < 2_000_000, "the page is " + size + " bytes");
        String section = section(html, "shards");
        assertEquals(5000, count(section.substring(section.indexOf("<div class=\"grid\""),
                section.indexOf("</div>")), "<span class="));
        assertEquals(Dashboard.SHARD_ROWS + Dashboard.OPEN_ROWS, count(section, "<tr data-shard="));
        assertTrue(section.contains("(the first 500 of 1667)"));
        assertTrue(section.contains("(20 of 1666)"));
        // leased shards first, soonest expiry first, then open ones; no accepted shard in the table
        assertTrue(section.indexOf("<tr data-shard=\"1\">") < section.indexOf("<tr data-shard=\"4\">"));
        assertTrue(section.indexOf("<tr data-shard=\"1498\">") < section.indexOf("<tr data-shard=\"2\">"));
        assertTrue(section.contains("<tr data-shard=\"59\">"));
        assertFalse(section.contains("<tr data-shard=\"62\">"), "only the first 20 open shards");
        assertFalse(section.contains("<tr data-shard=\"1501\">"), "only the first 500 leased shards");
        assertFalse(section.contains("<tr data-shard=\"0\">"));
        assertEquals(Dashboard.UPLOAD_ROWS, count(section(html, "uploads"), "<tr><td class=\"t\">"));
        assertFalse(html.toLowerCase(Locale.ROOT).contains("<script"));
    }
}
