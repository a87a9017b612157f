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
     */
    public record Result(Path out, int count, int dim, List<String> priors, List<Double> uniformity, int reference,
                         List<Double> residuals, List<Double> regularizations, List<Double> participantSeconds,
                         double uniformitySeconds, int concurrency, Map<String, Double> phaseSeconds, double seconds,
                         int skippedImages) {}

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
        InProcessPlatform platform = new InProcessPlatform(images, plan);
        ImageSet shared = platform.shared();
        preflight(new LinkedHashSet<>(priors), shared, device);
        phases.put("distribution", (System.nanoTime() - p) / 1e9);

        try (Scratch scratch = Scratch.beside(out)) {
            p = System.nanoTime();
            List<String> assigned = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                assigned.add(priors.get(i % priors.size()));
            }
            int workers = Math.min(k, s.concurrency() > 0 ? s.concurrency()
                    : Math.max(1, Runtime.getRuntime().availableProcessors() / Engines.threads()));
            for (Contribution c : optimize(platform, plan, assigned, workers, device, s.batchSize(), progress, scratch)) {
                platform.upload(c);
            }
            List<Contribution> uploads = platform.uploads();
            phases.put("optimization", (System.nanoTime() - p) / 1e9);

            p = System.nanoTime();
            List<Double> uniformity = uploads.stream().map(c -> c.prior().uniformity()).toList();
            int reference = 0;
            for (int i = 1; i < uniformity.size(); i++) {
                if (uniformity.get(i) < uniformity.get(reference)) {
                    reference = i;
                }
            }
            long[] sharedIds = longs(plan.shared());
            Fusion.Fused fused = s.align().equals("ridge") ? Fusion.ridge(uploads, sharedIds, reference, scratch)
                    : Fusion.none(uploads, sharedIds, reference, scratch);
            phases.put("alignment", (System.nanoTime() - p) / 1e9);

            p = System.nanoTime();
            DataOptimization.Postprocessed post = DataOptimization.postprocess(fused.outputs(), s.dim(), scratch, progress);
            ManifestProvenance provenance = new ManifestProvenance(
                    new ManifestProvenance.Source(data.spec(), split, images.count(), images.fingerprint(),
                            images.skipped()),
                    new ManifestProvenance.Postprocess(post.dim(), post.explainedVariance(), true),
                    uploads.stream().map(Contribution::prior).toList(), fused.alignment(),
                    new ManifestProvenance.Created(created.time(), created.toolVersion(), created.commandLine(), s.seed()));
            OptimizedDataset.RawOutputs raw = new OptimizedDataset.RawOutputs(
                    uploads.stream().map(Contribution::shardOutputs).toList(),
                    uploads.stream().map(Contribution::shardIds).toList());
            OptimizedDataset.write(out, post.targets(), fused.ids(), provenance, raw);
            phases.put("fusion", (System.nanoTime() - p) / 1e9);

            return new Result(out, fused.ids().length, post.dim(), assigned, uniformity, reference,
                    fused.alignment().residuals(), fused.alignment().regularizations(),
                    uploads.stream().map(Contribution::seconds).toList(),
                    uploads.stream().mapToDouble(Contribution::uniformitySeconds).sum(), workers, phases,
                    (System.nanoTime() - t0) / 1e9, images.skipped());
        }
    }

    /**
     * Phase 2: every participant runs its prior on its shard and on S, {@code workers} at a time (on a pool of
     * that many threads). One at a time, each draws its own progress bars; several at once share one bar.
     */
    private static List<Contribution> optimize(InProcessPlatform platform, ShardPlan plan, List<String> assigned, int workers,
                                               Device device, int batchSize, ProgressListener progress,
                                               Scratch scratch) {
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
            List<Future<Contribution>> futures = new ArrayList<>();
            for (int i = 0; i < assigned.size(); i++) {
                int index = i;
                long[] ids = longs(plan.shard(i));
                Participant participant = new LocalParticipant(assigned.get(i), device, batchSize,
                        combined == null ? progress : combined.part(), scratch);
                futures.add(pool.submit(() -> participant.optimize(index, platform.shard(index), ids, shared)));
            }
            List<Contribution> out = new ArrayList<>();
            for (Future<Contribution> f : futures) {
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
        return Arrays.stream(ids).asLongStream().toArray();
    }

    private static Contribution result(Future<Contribution> f) {
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
