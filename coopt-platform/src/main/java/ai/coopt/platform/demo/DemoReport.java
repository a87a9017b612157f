package ai.coopt.platform.demo;

import ai.coopt.eval.LinearEvaluation;
import ai.coopt.platform.api.Status;
import ai.coopt.report.HtmlReport;
import ai.coopt.report.Plots;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.Json;
import ai.coopt.train.Training;
import ai.coopt.util.ProjectHome;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/** The demo's results as a self-contained {@code report.html} with its charts. */
final class DemoReport {
    /**
     * The recorded benchmarks of the method: the four checks (scripts/summarize_collab_bench.py writes them), and the
     * alignment study and rounds (scripts/summarize_align_study.py and summarize_rounds.py).
     */
    static final List<String> CHECKS_JSON = List.of("docs/benchmarks/issue5-checks.json", "docs/benchmarks/issue14-checks.json");

    private DemoReport() {}

    /** Writes the charts into {@code out} and the report to {@code in.report()}, naming {@code version} as its maker. */
    static void write(Demo.Result in, Path out, String version) {
        Path curves = out.resolve("curves.png");
        Plots.curvesPlot(List.of(new Plots.Curve("ReLA->BYOL on the fused CoOpt dataset", in.curves().get(0).points()),
                new Plots.Curve("BYOL from scratch", in.curves().get(1).points())), curves);
        Path before = out.resolve("map-before.png");
        Path after = out.resolve("map-after.png");
        Plots.mapPlot(in.maps().before(), in.collab().priors(), before);
        Plots.mapPlot(in.maps().after(), in.collab().priors(), after);

        var c = in.collab();
        HtmlReport html = new HtmlReport("CoOpt demo: collaborative data optimization on " + in.dataName());
        html.paragraph(String.format(Locale.ROOT, "%d participants optimized disjoint shards of the %,d training images, each "
                + "with its own prior; their targets were aligned into the most uniform prior's space on a shared subset of "
                + "%d images and fused into one optimized dataset. A %s student trained on it with ReLA->BYOL, and a BYOL "
                + "baseline trained from scratch, each for %.0f s of training.", c.priors().size(), c.count(),
                in.sharedCount(), in.arch(), in.budgetSeconds()));
        html.note("Made " + Instant.now() + " by coopt " + version + ": " + String.join(" ", in.commandLine()));

        html.heading("Results");
        html.table(List.of("student", "training", "steps", "ended in phase", "linear-probe top-1"), List.of(
                studentRow("ReLA->BYOL on the fused CoOpt dataset", in.rela(), in.relaProbe()),
                studentRow("BYOL from scratch (baseline)", in.byol(), in.byolProbe())));
        html.note(String.format(Locale.ROOT, "Linear probe on frozen features: fitted on %,d train images, scored on %,d test "
                + "images; labels are used by the probe only.", in.relaProbe().probe().trainCount(), in.relaProbe().probe().testCount()));

        html.heading("Learning curves");
        html.image(curves, "linear-probe top-1 against training time for both students");
        html.note("Each point probes a checkpoint (" + (in.curveLimit() == 0 ? "all" : String.format(Locale.ROOT, "%,d", in.curveLimit()))
                + " images per split, so the values differ slightly from the final probes above).");

        html.heading("Participants and the uniformity ranking");
        html.table(List.of("rank", "participant", "prior", "output width", "shard", "uniformity on S",
                "ridge penalty", "fit residual on S", "optimization"), participantRows(in));
        html.note("Uniformity (Wang & Isola, t = 2) of each prior's outputs on S, centred on S and L2-normalised; lower is more uniform. "
                + "The most uniform prior is the reference space; every other prior is mapped into it by ridge regression "
                + "fitted on S, its penalty chosen by generalised cross-validation. The residual is the relative error of "
                + "that fit on S.");

        html.heading("Targets before and after alignment");
        html.image(before, "t-SNE map of the targets before alignment, coloured by participant");
        html.image(after, "t-SNE map of the fused targets after alignment, coloured by participant");
        html.note(String.format(Locale.ROOT, "Exact t-SNE of %d samples per participant. Before: what each participant "
                + "uploaded, its prior's raw outputs (zero-padded to the widest prior). After: the same samples' fused "
                + "targets, every prior mapped into the reference's space and post-processed once. Mapped participants "
                + "tend to sit nearer the centre: ridge predictions from a small S shrink towards the mean (smaller norm); "
                + "the ReLA loss is a cosine distance, so the student sees only their directions.",
                in.maps().before().points().length / Math.max(1, in.maps().priors().size())));

        if (in.platform() != null) {
            platform(html, in.platform(), out);
        }

        html.heading("Time and overhead");
        List<List<String>> phases = new ArrayList<>();
        c.phaseSeconds().forEach((k, v) -> phases.add(List.of(k, seconds(v))));
        phases.add(List.of("uniformity on S (inside optimization)", seconds(c.uniformitySeconds())));
        phases.add(List.of("student training (ReLA->BYOL)", seconds(in.rela().result().trainSeconds())));
        html.table(List.of("phase", "wall time"), phases);
        html.paragraph(String.format(Locale.ROOT, "CoOpt's overhead (uniformity + alignment) was %.2f s, %.2f%% of the student's "
                + "training time.", in.overheadSeconds(), 100 * in.overheadSeconds() / in.rela().result().trainSeconds()));

        checks(html);
        html.heading("Files");
        html.note("Fused dataset: " + c.out().toAbsolutePath() + "; students: " + in.rela().run().toAbsolutePath() + ", "
                + in.byol().run().toAbsolutePath() + " (model directories with metrics.jsonl, loss.png, checkpoints/).");
        html.write(in.report());
    }

    /** The networked round: who did which shard, and the timeline of leases and uploads from the platform's events. */
    private static void platform(HtmlReport html, Status status, Path out) {
        html.heading("The platform: a networked round on loopback");
        Map<String, String> names = new LinkedHashMap<>();
        List<List<String>> people = new ArrayList<>();
        for (Status.ParticipantView p : status.participants()) {
            names.put(p.id(), p.name());
            people.add(List.of(p.name(), p.id(), p.prior() == null ? "-" : p.prior(), String.valueOf(p.shardsAccepted()),
                    p.quarantined() != null ? "quarantined: " + p.quarantined() : "good"));
        }
        html.paragraph(String.format(Locale.ROOT, "The platform served %d shards of the data and the shared subset over "
                + "HTTP; each participant ran in its own process, enrolled with a one-time invite and an Ed25519 key, "
                + "signed every request, leased shards until none was left and uploaded its prior's outputs, which the "
                + "platform checked (shape, ids, finite values) before accepting. After each accepted shard the "
                + "platform audited it: it asked the participant again for a random, unannounced sample of that shard's "
                + "rows and of the shared subset's, and compared the answer with what was uploaded; it also screened "
                + "every participant's outputs on the shared subset (degenerate, copied, or predicted by too few of the "
                + "others). Fusion started once every shard was accepted from a participant in good standing and every "
                + "audit had passed; the fused dataset was then downloaded and verified.", status.shards().size()));
        html.table(List.of("participant", "id", "prior", "shards accepted", "standing"), people);
        List<List<String>> audits = new ArrayList<>();
        Map<String, Integer> auditStates = new LinkedHashMap<>();
        for (Status.AuditView a : status.audits()) {
            auditStates.merge(a.state(), 1, Integer::sum);
            audits.add(List.of(String.valueOf(a.id()), names.getOrDefault(a.participant(), "-"), String.valueOf(a.shard()),
                    String.valueOf(a.rows()), a.state(), a.reason() == null ? "" : a.reason()));
        }
        html.note(String.format(Locale.ROOT, "Audits: %d passed, %d failed, %d pending; %d participant(s) quarantined.",
                auditStates.getOrDefault("passed", 0), auditStates.getOrDefault("failed", 0),
                auditStates.getOrDefault("pending", 0), people.stream().filter(r -> !r.get(4).equals("good")).count()));
        html.table(List.of("audit", "participant", "shard", "rows asked again", "state", "reason"), audits);
        List<List<String>> shards = new ArrayList<>();
        for (Status.ShardView sh : status.shards()) {
            shards.add(List.of(String.valueOf(sh.shard()), String.format(Locale.ROOT, "%,d", sh.count()), sh.state(),
                    sh.acceptedFrom() == null ? "-" : names.getOrDefault(sh.acceptedFrom(), "-")));
        }
        html.table(List.of("shard", "images", "state", "accepted from"), shards);
        long start = status.events().stream().mapToLong(Status.Event::at).min().orElse(Long.MAX_VALUE);
        List<String> lanes = new ArrayList<>(names.values());
        Map<String, List<double[]>> byKind = new LinkedHashMap<>();
        for (String kind : List.of("lease_taken", "lease_retaken", "upload_accepted", "upload_refused", "shared_accepted",
                "audit_passed", "audit_failed")) {
            byKind.put(kind, new ArrayList<>());
        }
        int refused = 0;
        for (Status.Event e : status.events()) {
            String who = e.participant() == null ? null : names.get(e.participant());
            refused += e.kind().equals("upload_refused") ? 1 : 0;
            if (who != null && byKind.containsKey(e.kind())) {
                byKind.get(e.kind()).add(new double[] {(e.at() - start) / 1000.0, lanes.indexOf(who)});
            }
        }
        Path png = out.resolve("platform-timeline.png");
        Plots.timelinePlot("Leases, uploads and audits on the platform", lanes,
                byKind.entrySet().stream().map(k -> new Plots.Events(k.getKey().replace('_', ' '), k.getValue())).toList(),
                png);
        html.image(png, "timeline of leases, uploads and audits by participant");
        Status.Fusion f = status.fusion();
        html.note(String.format(Locale.ROOT, "%d events; %d uploads refused. Fusion %s, %.1f s after its start.",
                status.events().size(), refused, f.state(),
                (orZero(f.finishedAt()) - orZero(f.startedAt())) / 1000.0));
    }

    private static long orZero(Long v) {
        return v == null ? 0 : v;
    }

    private static List<String> studentRow(String name, Training.Outcome run, LinearEvaluation.Report probe) {
        return List.of(name, seconds(run.result().trainSeconds()), String.valueOf(run.result().steps()), run.result().phase(),
                String.format(Locale.ROOT, "%.2f%%", 100 * probe.probe().top1()));
    }

    private static List<List<String>> participantRows(Demo.Result in) {
        var c = in.collab();
        List<ManifestProvenance.Participant> described = in.fused().provenance().participants();
        List<List<String>> rows = new ArrayList<>();
        int rank = 1;
        for (int i : c.ranking()) {
            ManifestProvenance.Participant p = described.get(i);
            rows.add(List.of(String.valueOf(rank++), i + (i == c.reference() ? " " + in.referenceLabel() : ""), c.priors().get(i),
                    String.valueOf(p.outputDim()), String.format(Locale.ROOT, "%,d", p.shard().count()),
                    String.format(Locale.ROOT, "%.4f", c.uniformity().get(i)),
                    i == c.reference() ? "-" : String.format(Locale.ROOT, "%.3g", c.regularizations().get(i)),
                    i == c.reference() ? "-" : String.format(Locale.ROOT, "%.3f", c.residuals().get(i)),
                    seconds(c.participantSeconds().get(i))));
        }
        return rows;
    }

    /** The recorded benchmark tables, when the project's docs are at hand. */
    private static void checks(HtmlReport html) {
        html.heading("Checks of the method (recorded benchmarks, not this run)");
        for (String name : CHECKS_JSON) {
            var file = ProjectHome.resolve(name);
            if (file.isEmpty()) {
                html.note(name + " was not found next to this coopt, so that recorded benchmark is not shown; "
                        + "see BENCHMARKS.md in the project.");
                continue;
            }
            JsonNode root;
            try {
                root = Json.mapper().readTree(file.get().toFile());
            } catch (IOException e) {
                html.note(file.get() + " could not be read: " + e.getMessage());
                continue;
            }
            html.note(root.path("setup").asText() + " Command: " + root.path("command").asText());
            for (JsonNode check : root.path("checks")) {
                html.paragraph(check.path("title").asText());
                List<String> header = new ArrayList<>();
                check.path("header").forEach(h -> header.add(h.asText()));
                List<List<String>> rows = new ArrayList<>();
                for (JsonNode row : check.path("rows")) {
                    List<String> cells = new ArrayList<>();
                    row.forEach(x -> cells.add(x.asText()));
                    rows.add(cells);
                }
                html.table(header, rows);
                if (check.hasNonNull("finding")) {
                    html.note(check.path("finding").asText());
                }
            }
        }
    }

    private static String seconds(double s) {
        return String.format(Locale.ROOT, "%.2f s", s);
    }
}
