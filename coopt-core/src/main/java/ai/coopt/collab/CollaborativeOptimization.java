package ai.coopt.collab;

import ai.coopt.UserException;
import ai.coopt.data.DatasetSpec;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;
import ai.coopt.data.Sharding;
import ai.coopt.engine.Engines;
import ai.coopt.prior.Prior;
import ai.coopt.prior.Priors;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.Scratch;
import ai.coopt.target.DataOptimization;
import ai.coopt.target.Embedder;
import ai.coopt.util.CombinedProgress;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
     * @param align {@code ridge} or {@code none}
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
     * {@code notes}: why participants could not be the reference (degenerate outputs, predicted by no other).
     */
    public record Result(Path out, int count, int dim, List<String> priors, List<Double> uniformity, int reference,
                         List<Double> residuals, List<Double> regularizations, List<Double> participantSeconds,
                         double uniformitySeconds, int concurrency, Map<String, Double> phaseSeconds, double seconds,
                         int skippedImages, List<String> notes) {}

    private CollaborativeOptimization() {}

    public static Result run(DatasetSpec data, String split, int limit, List<String> priors, Path out, Settings s,
                             Device device, ProgressListener progress, ManifestProvenance.Created created) {
        long t0 = System.nanoTime();
        if (priors.isEmpty()) {
            throw new UserException("--priors names no prior");
        }
        priors.forEach(Priors::check);
        if (!s.align().equals("ridge") && !s.align().equals("none")) {
            throw new UserException("--align must be ridge or none, not '" + s.align() + "'");
        }
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
            List<ParticipantLoop.Summary> summaries = optimize(platform, plan, assigned, workers, device, s.batchSize(),
                    progress, scratch);
            phases.put("optimization", (System.nanoTime() - p) / 1e9);

            Written written = fuseAndWrite(platform.sharedOutputs(), platform.shards(), longs(plan.shared()), s.align(),
                    s.dim(), new ManifestProvenance.Source(data.spec(), split, images.count(), images.fingerprint(),
                            images.skipped()), created, s.seed(), out, scratch, progress);
            phases.put("alignment", written.alignmentSeconds());
            phases.put("fusion", written.fusionSeconds());
            List<SharedOutputs> byParticipant = platform.sharedOutputs();
            return new Result(out, written.count(), written.dim(), assigned,
                    byParticipant.stream().map(o -> o.prior().uniformity()).toList(), written.reference(),
                    written.alignment().residuals(), written.alignment().regularizations(),
                    summaries.stream().map(ParticipantLoop.Summary::seconds).toList(),
                    summaries.stream().mapToDouble(ParticipantLoop.Summary::uniformitySeconds).sum(), workers, phases,
                    (System.nanoTime() - t0) / 1e9, images.skipped(), written.notes());
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
     * align onto the most uniform prior, merge by id, post-process once, write the optimized dataset to {@code out}
     * (with every participant's raw outputs).
     */
    public static Written fuseAndWrite(List<SharedOutputs> shared, List<ShardOutputs> shards, long[] sharedIds,
                                       String align, int dim, ManifestProvenance.Source source,
                                       ManifestProvenance.Created created, long seed, Path out, Scratch scratch,
                                       ProgressListener progress) {
        long p = System.nanoTime();
        Fusion.Fused fused = Fusion.fuse(shared, shards, sharedIds, align, scratch);
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
     * Phase 2: every participant runs its prior on S and on one shard, {@code workers} at a time (on a pool of
     * that many threads), each through the same {@link ParticipantLoop} a networked participant runs. One at a time,
     * each draws its own progress bars; several at once share one bar.
     */
    private static List<ParticipantLoop.Summary> optimize(InProcessPlatform platform, ShardPlan plan,
                                                          List<String> assigned, int workers, Device device,
                                                          int batchSize, ProgressListener progress, Scratch scratch) {
        ImageSet shared = platform.shared();
        long images = (long) plan.shared().length * assigned.size()
                + IntStream.range(0, assigned.size()).mapToLong(i -> plan.shard(i).length).sum();
        CombinedProgress combined = workers > 1
                ? new CombinedProgress(progress, "optimization (" + assigned.size() + " participants, " + workers + " at a time)",
                        images, "img")
                : null;
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "coopt-participant");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<ParticipantLoop.Summary>> futures = new ArrayList<>();
            for (int i = 0; i < assigned.size(); i++) {
                String id = participantId(i);
                String spec = assigned.get(i);
                ProgressListener own = combined == null ? progress : combined.part();
                futures.add(pool.submit(() -> {
                    try (Participant participant = new LocalParticipant(id, spec, shared, device, batchSize, own, scratch)) {
                        return ParticipantLoop.run(platform, participant, 1, Thread::sleep);
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

    private static long[] longs(int[] ids) {
        return InProcessPlatform.longs(ids);
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
