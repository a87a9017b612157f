package ai.coopt.collab;

import ai.coopt.Setting;
import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;
import ai.coopt.data.Sharding;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.engine.Engines;
import ai.coopt.engine.Precision;
import ai.coopt.optimize.DataOptimization;
import ai.coopt.optimize.Embedder;
import ai.coopt.prior.Prior;
import ai.coopt.prior.Priors;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.Scratch;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * CoOpt's five phases in one process: distribution (K disjoint shards and a shared subset S),
 * optimization (each participant's prior on its shard and on S), alignment (the most uniform prior
 * on S is the reference; the others are mapped into its space by ridge regression fitted on S),
 * upload, and fusion (one optimized dataset, post-processed once).
 */
public final class CollaborativeOptimization {
    /** The default size of S as a share of the data: accuracy stopped improving at 1% in the shared-subset sweep (BENCHMARKS.md). */
    public static final double DEFAULT_SHARED_FRACTION = 0.01;

    /**
     * @param participants K, at least 1; null = one per prior (priors are assigned round-robin when K exceeds them)
     * @param sharedFraction size of S as a share of the data, or null when {@code sharedCount} is given
     * @param sharedCount size of S in samples, or null
     * @param align {@code ridge}, {@code pca} or {@code none} ({@link Fusion#ALIGNMENTS})
     * @param dim target width after fusion (0 = default rule of {@link DataOptimization#postprocess})
     * @param concurrency participants optimizing at once (0 = as many as the cores allow: cores divided by the
     *                    engine's intra-op threads, so a 2-core machine with 2 engine threads runs one at a time)
     */
    public record Settings(Integer participants, Double sharedFraction, Integer sharedCount, String align, int dim,
                           int batchSize, long seed, int concurrency) {
        /** Settings with the concurrency the cores allow. */
        public Settings(Integer participants, Double sharedFraction, Integer sharedCount, String align, int dim,
                        int batchSize, long seed) {
            this(participants, sharedFraction, sharedCount, align, dim, batchSize, seed, 0);
        }
    }

    /**
     * What was made; {@code phaseSeconds} keys: distribution, optimization, alignment, fusion.
     * {@code participantSeconds}: each participant's own optimization time (on separate machines the
     * optimization phase would take the longest of them).
     * {@code uniformitySeconds}: computing every prior's uniformity on S, summed (inside the optimization
     * phase); with the alignment phase it is CoOpt's whole overhead over plain optimization.
     * {@code concurrency}: how many participants optimized at once.
     * {@code residuals}, {@code regularizations}: NaN for an excluded participant; {@code reference} indexes
     * the participants; {@code referenceVerified}: false when fewer than three independent priors (participants with
     * the same outputs on S count once) remained to verify it ({@link Screening.Result#referenceVerified}).
     * {@code notes}: what fusion left out and why. {@code excluded}: participants whose outputs
     * were not fused ({@link Screening}); their shards were optimized again by trusted participants
     * ({@code reassignedShards}).
     */
    public record Result(Path out, int count, int dim, List<String> priors, List<Double> uniformity, int reference,
                         boolean referenceVerified, List<Double> residuals, List<Double> regularizations, List<Double> participantSeconds,
                         double uniformitySeconds, int concurrency, Map<String, Double> phaseSeconds, double seconds,
                         int skippedImages, List<String> notes, List<Exclusion> excluded, int reassignedShards,
                         ai.coopt.data.Subset subset) {
        /** The participants' positions by uniformity on S, lowest (the most uniform) first. */
        public int[] ranking() {
            return IntStream.range(0, priors.size()).boxed().sorted(Comparator.comparingDouble(uniformity::get))
                    .mapToInt(Integer::intValue).toArray();
        }
    }

    /** A participant left out of fusion ({@link Screening}): its position, prior and why. */
    public record Exclusion(int participant, String prior, String reason) {}

    private CollaborativeOptimization() {}

    public static Result run(DatasetSpec data, String split, int limit, List<String> priors, Path out, Settings s,
                             Device device, ProgressListener progress, ManifestProvenance.Created created) {
        return run(data, split, limit, priors, out, s, device, Precision.FP32, progress, created);
    }

    /** As above, the priors computing in {@code precision} where they can (the manifest says, prior by prior). */
    public static Result run(DatasetSpec data, String split, int limit, List<String> priors, Path out, Settings s,
                             Device device, Precision precision, ProgressListener progress,
                             ManifestProvenance.Created created) {
        long t0 = System.nanoTime();
        if (priors.isEmpty()) {
            throw new UserException(names -> names.of(Setting.PRIORS) + " names no prior");
        }
        priors.forEach(Priors::check);
        Alignment alignment = Alignment.named(s.align());
        if (s.participants() != null && s.participants() < 1) {
            throw new UserException(names -> names.of(Setting.PARTICIPANTS) + " must be at least 1, not " + s.participants());
        }
        if (s.concurrency() < 0) {
            throw new UserException(names -> names.of(Setting.CONCURRENCY) + " must be 0 (as the cores allow) or positive, not "
                    + s.concurrency());
        }
        DataOptimization.checkWritable(out);
        int k = s.participants() == null ? priors.size() : s.participants();
        ImageSet images = data.load(split, limit);
        Map<String, Double> phases = new LinkedHashMap<>();

        long p = System.nanoTime();
        ShardPlan plan = s.sharedCount() != null
                ? Sharding.plan(images.count(), k, s.sharedCount(), s.seed())
                : Sharding.plan(images.count(), k, s.sharedFraction() == null ? DEFAULT_SHARED_FRACTION : s.sharedFraction(), s.seed());
        if (plan.shared().length < 3) {
            int shared = plan.shared().length;
            throw new UserException(names -> "the shared subset has " + shared + " samples; alignment needs at least 3 "
                    + "(raise " + names.of(Setting.SHARED_FRACTION) + " or set " + names.of(Setting.SHARED_COUNT) + ")");
        }
        List<String> assigned = new ArrayList<>();
        Map<String, Integer> preferred = new LinkedHashMap<>();
        for (int i = 0; i < k; i++) {
            assigned.add(priors.get(i % priors.size()));
            preferred.put(participantId(i), i);
        }
        InProcessPlatform local = new InProcessPlatform(images, plan, preferred);
        Platform platform = local;
        RoundLedger ledger = local;
        RoundEngine engine = new RoundEngine(RoundPolicy.screened(alignment));
        ImageSet shared = platform.shared();
        preflight(new LinkedHashSet<>(priors), shared, device, precision);
        phases.put("distribution", (System.nanoTime() - p) / 1e9);

        try (Scratch scratch = Scratch.beside(out)) {
            p = System.nanoTime();
            int workers = Math.min(k, s.concurrency() > 0 ? s.concurrency()
                    : Math.max(1, Runtime.getRuntime().availableProcessors() / Engines.threads()));
            List<String> ids = IntStream.range(0, k).mapToObj(CollaborativeOptimization::participantId).toList();
            InProcessRound.Outcome round = InProcessRound.run(platform, ledger, plan, engine, ids,
                    (i, own) -> new LocalParticipant(ids.get(i), assigned.get(i), shared, device, precision, s.batchSize(), own,
                            scratch),
                    workers, progress);
            Screening.Result screening = round.judgement();
            phases.put("optimization", round.optimizationSeconds());
            phases.put("screening", round.screeningSeconds());

            Written written = fuseAndWrite(screening, ledger.shardOutputs(), images.sourceIds(plan.shared()), alignment,
                    s.dim(), ManifestProvenance.Source.of(data.spec(), split, images), created, s.seed(), out, scratch, progress);
            phases.put("alignment", written.alignmentSeconds());
            phases.put("fusion", written.fusionSeconds());
            List<Double> residuals = new ArrayList<>();
            List<Double> regularizations = new ArrayList<>();
            int reference = -1;
            for (String id : ids) {
                int at = written.participantIds().indexOf(id);
                residuals.add(at < 0 ? Double.NaN : written.alignment().residuals().get(at));
                regularizations.add(at < 0 ? Double.NaN : written.alignment().regularizations().get(at));
                if (at >= 0 && at == written.reference()) {
                    reference = ids.indexOf(id);
                }
            }
            List<Exclusion> excluded = screening.excluded().stream().map(v -> new Exclusion(ids.indexOf(v.participant()),
                    v.prior(), v.reason())).toList();
            return new Result(out, written.count(), written.dim(), assigned,
                    screening.verdicts().stream().map(Screening.Verdict::uniformity).toList(), reference,
                    screening.referenceVerified(), residuals,
                    regularizations, round.participantSeconds(), round.uniformitySeconds(), workers,
                    phases, (System.nanoTime() - t0) / 1e9, images.skipped(), written.notes(), excluded, round.reassigned(),
                    images.drawn());
        }
    }

    /** The id of the i-th participant of an in-process run. */
    static String participantId(int i) {
        return "participant-" + i;
    }

    /**
     * What {@link #fuseAndWrite} made.
     *
     * @param reference the reference participant's position in the manifest's list
     */
    public record Written(int count, int dim, int reference, ManifestProvenance.Alignment alignment,
                          List<String> participantIds, double alignmentSeconds, double fusionSeconds,
                          List<String> notes) {}

    /**
     * Phases 3 and 5 over accepted outputs, wherever they came from (this process or the networked platform):
     * fuse the participants the screening trusts (aligned onto its reference), merge by id, post-process once, write the optimized dataset to {@code out}
     * (with every participant's raw outputs).
     */
    public static Written fuseAndWrite(Screening.Result shared, List<ShardOutputs> shards, long[] sharedIds,
                                       Alignment alignment, int dim, ManifestProvenance.Source source,
                                       ManifestProvenance.Created created, long seed, Path out, Scratch scratch,
                                       ProgressListener progress) {
        long p = System.nanoTime();
        Fusion.Fused fused = Fusion.fuse(shared, shards, sharedIds, alignment, scratch);
        double alignmentSeconds = (System.nanoTime() - p) / 1e9;
        p = System.nanoTime();
        DataOptimization.Postprocessed post = DataOptimization.postprocess(fused.outputs(), dim, scratch, progress);
        ManifestProvenance provenance = new ManifestProvenance(source,
                new ManifestProvenance.Postprocess(post.dim(), post.explainedVariance(), true),
                fused.participants(), fused.alignment(),
                new ManifestProvenance.Created(created.time(), created.toolVersion(), created.commandLine(), seed));
        OptimizedDataset.write(out, post.targets(), fused.ids(), provenance, fused.raw());
        return new Written(fused.ids().length, post.dim(), fused.alignment().reference(), fused.alignment(),
                fused.participantIds(), alignmentSeconds, (System.nanoTime() - p) / 1e9, fused.notes());
    }

    /** Opens every distinct prior and runs it on S, so a prior that fails is reported before any heavy work. */
    private static void preflight(Iterable<String> priors, ImageSet shared, Device device, Precision precision) {
        for (String spec : priors) {
            try (Prior prior = Priors.open(spec, shared, device, precision)) {
                new Embedder(64, 1).embed(prior, shared.limit(Math.min(4, shared.count())), "check " + spec, ProgressListener.NONE);
            } catch (UserException e) {
                throw new UserException("prior " + spec + " fails on the shared subset: " + e.getMessage());
            }
        }
    }
}
