package ai.coopt.collab;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;
import ai.coopt.data.Sharding;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.engine.Engines;
import ai.coopt.optimize.DataOptimization;
import ai.coopt.optimize.Embedder;
import ai.coopt.prior.Prior;
import ai.coopt.prior.Priors;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.Scratch;
import ai.coopt.util.CombinedProgress;
import ai.coopt.util.DaemonThreads;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
        long t0 = System.nanoTime();
        if (priors.isEmpty()) {
            throw new UserException("--priors names no prior");
        }
        priors.forEach(Priors::check);
        Alignment alignment = Alignment.named(s.align());
        if (s.participants() != null && s.participants() < 1) {
            throw new UserException("--participants must be at least 1, not " + s.participants());
        }
        if (s.concurrency() < 0) {
            throw new UserException("--concurrency must be 0 (as the cores allow) or positive, not " + s.concurrency());
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
            throw new UserException("the shared subset has " + plan.shared().length + " samples; alignment needs at least 3 "
                    + "(raise --shared-fraction or set --shared-count)");
        }
        List<String> assigned = new ArrayList<>();
        Map<String, Integer> preferred = new LinkedHashMap<>();
        for (int i = 0; i < k; i++) {
            assigned.add(priors.get(i % priors.size()));
            preferred.put(participantId(i), i);
        }
        InProcessPlatform platform = new InProcessPlatform(images, plan, preferred);
        ImageSet shared = platform.shared();
        preflight(new LinkedHashSet<>(priors), shared, device);
        phases.put("distribution", (System.nanoTime() - p) / 1e9);

        try (Scratch scratch = Scratch.beside(out)) {
            p = System.nanoTime();
            int workers = Math.min(k, s.concurrency() > 0 ? s.concurrency()
                    : Math.max(1, Runtime.getRuntime().availableProcessors() / Engines.threads()));
            List<String> ids = IntStream.range(0, k).mapToObj(CollaborativeOptimization::participantId).toList();
            List<ParticipantLoop.Summary> summaries = optimize(platform, ids, assigned, null, workers, device,
                    s.batchSize(), progress, scratch);
            double[] participantSeconds = summaries.stream().mapToDouble(ParticipantLoop.Summary::seconds).toArray();
            double uniformitySeconds = summaries.stream().mapToDouble(ParticipantLoop.Summary::uniformitySeconds).sum();
            phases.put("optimization", (System.nanoTime() - p) / 1e9);

            // screening: excluded participants' shards go to the trusted ones, round-robin in participant order
            p = System.nanoTime();
            Screening.Result screening = screen(platform);
            int reassigned = 0;
            if (!screening.excluded().isEmpty()) {
                List<Integer> reopened = platform.withdraw(screening.excluded().stream().map(Screening.Verdict::participant)
                        .collect(java.util.stream.Collectors.toSet()));
                List<Integer> trusted = IntStream.range(0, k).filter(i -> screening.trusted(ids.get(i))).boxed().toList();
                if (trusted.isEmpty()) {
                    throw new UserException("no participant's outputs can be trusted: " + String.join("; ",
                            screening.reasons()));
                }
                Map<Integer, Integer> shardsOf = new LinkedHashMap<>();
                for (int j = 0; j < reopened.size(); j++) {
                    int who = trusted.get(j % trusted.size());
                    platform.assign(reopened.get(j), ids.get(who));
                    shardsOf.merge(who, 1, Integer::sum);
                }
                reassigned = reopened.size();
                List<Integer> again = new ArrayList<>(shardsOf.keySet());
                List<ParticipantLoop.Summary> more = optimize(platform, again.stream().map(ids::get).toList(),
                        again.stream().map(assigned::get).toList(), again.stream().map(shardsOf::get).toList(),
                        Math.min(workers, again.size()), device, s.batchSize(), progress, scratch);
                for (int j = 0; j < again.size(); j++) {
                    participantSeconds[again.get(j)] += more.get(j).seconds();
                }
                // the re-embedded shards are checked against their new owners' outputs on S like the first ones
                Screening.Result after = screen(platform);
                if (!after.excluded().stream().map(Screening.Verdict::participant).toList()
                        .equals(screening.excluded().stream().map(Screening.Verdict::participant).toList())) {
                    throw new UserException("participants failed the screening after their shards were reassigned: "
                            + String.join("; ", after.reasons()));
                }
            }
            phases.put("screening", (System.nanoTime() - p) / 1e9);

            Written written = fuseAndWrite(screening, platform.shards(), images.sourceIds(plan.shared()), alignment,
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
                    regularizations, Arrays.stream(participantSeconds).boxed().toList(), uniformitySeconds, workers,
                    phases, (System.nanoTime() - t0) / 1e9, images.skipped(), written.notes(), excluded, reassigned,
                    images.drawn());
        }
    }

    /**
     * Every participant's outputs on S judged ({@link Screening}); a participant whose shard disagrees with its own
     * outputs on S ({@link Screening#shardDisagreement}) is excluded as well.
     */
    private static Screening.Result screen(InProcessPlatform platform) {
        List<SharedOutputs> shared = platform.sharedOutputs();
        Map<String, String> disagreeing = new LinkedHashMap<>();
        for (ShardOutputs shard : platform.acceptedShards()) {
            SharedOutputs own = shared.stream().filter(o -> o.participant().equals(shard.participant())).findFirst()
                    .orElseThrow();
            Screening.shardDisagreement(own, shard.rows())
                    .ifPresent(r -> disagreeing.putIfAbsent(shard.participant(), "shard " + shard.shard() + ": " + r));
        }
        return Screening.screen(shared, disagreeing);
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

    /**
     * Phase 2: each participant runs its prior on S (unless the platform has it) and on its shards, {@code workers}
     * at a time (on a pool of that many threads), each through the same {@link ParticipantLoop} a networked
     * participant runs. One at a time, each draws its own progress bars; several at once share one bar.
     *
     * @param shards how many shards each participant optimizes (null: one each)
     */
    private static List<ParticipantLoop.Summary> optimize(InProcessPlatform platform, List<String> ids,
                                                          List<String> specs, List<Integer> shards, int workers,
                                                          Device device, int batchSize, ProgressListener progress,
                                                          Scratch scratch) {
        ImageSet shared = platform.shared();
        long images = 0;
        for (int i = 0; i < ids.size(); i++) {
            images += (platform.hasShared(ids.get(i)) ? 0 : shared.count())
                    + platform.heldImages(ids.get(i), shards == null ? 1 : shards.get(i));
        }
        CombinedProgress combined = workers > 1
                ? new CombinedProgress(progress, "optimization (" + ids.size() + " participants, " + workers + " at a time)",
                        images, "img")
                : null;
        ExecutorService pool = Executors.newFixedThreadPool(workers, DaemonThreads.named("coopt-participant"));
        try {
            List<Future<ParticipantLoop.Summary>> futures = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                String spec = specs.get(i);
                int max = shards == null ? 1 : shards.get(i);
                ProgressListener own = combined == null ? progress : combined.part();
                futures.add(pool.submit(() -> {
                    try (Participant participant = new LocalParticipant(id, spec, shared, device, batchSize, own, scratch)) {
                        return ParticipantLoop.run(platform, participant, max, Thread::sleep);
                    }
                }));
            }
            List<ParticipantLoop.Summary> out = new ArrayList<>();
            for (Future<ParticipantLoop.Summary> f : futures) {
                out.add(result(f));
            }
            return out;
        } finally {
            pool.shutdownNow();
            if (combined != null) {
                combined.finish();
            }
        }
    }

    private static <T> T result(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while participants were optimizing", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Opens every distinct prior and runs it on S, so a prior that fails is reported before any heavy work. */
    private static void preflight(Iterable<String> priors, ImageSet shared, Device device) {
        for (String spec : priors) {
            try (Prior prior = Priors.open(spec, shared, device)) {
                new Embedder(64, 1).embed(prior, shared.limit(Math.min(4, shared.count())), "check " + spec, ProgressListener.NONE);
            } catch (UserException e) {
                throw new UserException("prior " + spec + " fails on the shared subset: " + e.getMessage());
            }
        }
    }
}
