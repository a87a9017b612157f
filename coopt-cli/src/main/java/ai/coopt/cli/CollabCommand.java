package ai.coopt.cli;

import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.dataset.DatasetSpec;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code coopt collab}: CoOpt's five phases with K participants in this process. */
@Command(name = "collab", mixinStandardHelpOptions = true,
        description = "Collaborative data optimization in one process: distribute K disjoint shards and a shared subset S, "
                + "optimize each shard with a participant's prior, align every prior to the most uniform one on S "
                + "(ridge regression, penalty by generalised cross-validation), and fuse one optimized dataset.")
final class CollabCommand implements Callable<Integer> {
    @Mixin
    DataOptions input;

    @Option(names = "--priors", required = true, paramLabel = "SPEC,SPEC,...", split = ",",
            description = "The participants' priors (assigned round-robin when --participants exceeds them).")
    List<String> priors;

    @Option(names = "--participants", description = "K participants, at least 1 (default: one per prior).")
    Integer participants;

    @Mixin
    FusionOptions fusion;

    @Option(names = "--concurrency", defaultValue = "0", description = "Participants optimizing at once (default 0: as many as "
            + "the cores allow, cores / --threads; with 2 cores and 2 engine threads, one at a time).")
    int concurrency;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds the shards and S (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the fused optimized dataset.")
    Path out;

    @Mixin
    CommonOptions common;

    @Mixin
    PrecisionOption precision;

    @Override
    public Integer call() {
        Check.positive("--batch", fusion.batch);
        Check.atLeast("--dim", fusion.dim, 0);
        Check.threads("--concurrency", concurrency, 0);
        DatasetSpec spec = input.spec();
        var settings = new CollaborativeOptimization.Settings(participants, fusion.fraction(), fusion.count(), fusion.align,
                fusion.dim, fusion.batch, seed, concurrency);
        ai.djl.Device device = common.engine();
        var r = CollaborativeOptimization.run(spec, input.split, input.limit, priors, out, settings, device,
                precision.choose(device), new CliProgress(), Provenance.created(seed));
        r.notes().forEach(n -> Output.note("coopt collab: " + n));
        ObjectNode o = toJson(r, fusion.align);
        int[] order = r.ranking();
        StringBuilder human = new StringBuilder(String.format(Locale.ROOT,
                "wrote %s: %d fused targets of dim %d from %d participants (align %s); %.1f s in all%n  uniformity ranking (lower = better):",
                r.out(), r.count(), r.dim(), r.priors().size(), fusion.align, r.seconds()));
        for (int i : order) {
            boolean out = r.residuals().get(i).isNaN();
            human.append(String.format(Locale.ROOT, "%n    %d %-40s %8.4f  %s%s", i, r.priors().get(i),
                    r.uniformity().get(i), out ? "excluded" : String.format(Locale.ROOT, "residual %.3f", r.residuals().get(i)),
                    i == r.reference() ? r.referenceVerified() ? "  (reference)" : "  (reference, unverified)" : ""));
        }
        r.phaseSeconds().forEach((k, v) -> human.append(String.format(Locale.ROOT, "%n  %-13s %.2f s", k, v)));
        Output.print(common.json, o, human.toString());
        return 0;
    }

    static ObjectNode toJson(CollaborativeOptimization.Result r, String align) {
        ObjectNode o = Output.object();
        o.put("out", r.out().toAbsolutePath().toString());
        o.put("skipped_images", r.skippedImages());
        Output.subset(o, r.subset());
        o.put("count", r.count());
        o.put("dim", r.dim());
        o.put("participants", r.priors().size());
        o.put("reference", r.reference());
        o.put("reference_verified", r.referenceVerified());
        o.put("align", align);
        o.put("concurrency", r.concurrency());
        r.notes().forEach(o.putArray("notes")::add);
        ArrayNode excluded = o.putArray("excluded");
        r.excluded().forEach(e -> excluded.addObject().put("participant", e.participant()).put("prior", e.prior())
                .put("reason", e.reason()));
        o.put("reassigned_shards", r.reassignedShards());
        ArrayNode ps = o.putArray("ranking");
        for (int i : r.ranking()) {
            ObjectNode p = ps.addObject();
            p.put("participant", i);
            p.put("prior", r.priors().get(i));
            p.put("uniformity", r.uniformity().get(i));
            p.put("excluded", r.residuals().get(i).isNaN());
            putFinite(p, "residual", r.residuals().get(i));
            putFinite(p, "regularization", r.regularizations().get(i));
            p.put("optimization_seconds", r.participantSeconds().get(i));
        }
        ObjectNode phases = o.putObject("phase_seconds");
        r.phaseSeconds().forEach(phases::put);
        o.put("uniformity_seconds", r.uniformitySeconds());
        o.put("seconds", r.seconds());
        return o;
    }

    /** A number, or null where there is none (an excluded participant has no residual). */
    private static void putFinite(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }
}
