package ai.coopt.collab;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;
import ai.coopt.util.CombinedProgress;
import ai.coopt.util.DaemonThreads;
import ai.coopt.util.ProgressListener;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A round run to the point of fusion inside this process ({@code coopt collab}): every participant goes through the
 * same {@link ParticipantLoop} a networked participant runs, against the in-process platform; the {@link RoundEngine}
 * settles the round by its policy; the shards of participants it excludes are redone by the heirs the policy names, and
 * the round is settled again. The networked platform's referee settles its rounds with the same engine.
 */
public final class InProcessRound {
    /** Opens participant {@code index} (of {@code ids}) for a pass; it is closed when its loop ends. */
    @FunctionalInterface
    public interface Participants {
        Participant open(int index, ProgressListener progress);
    }

    /**
     * What the round came to.
     *
     * @param judgement the judgement fusion follows (the first settlement's: who was trusted and the reference)
     * @param reassigned how many shards were redone by other participants
     * @param participantSeconds each participant's own time in its loops
     * @param uniformitySeconds the time spent on uniformity on S, summed over participants
     * @param optimizationSeconds the first pass, all participants
     * @param screeningSeconds the settlements and the shards redone
     */
    public record Outcome(Screening.Result judgement, int reassigned, List<Double> participantSeconds,
                          double uniformitySeconds, double optimizationSeconds, double screeningSeconds) {}

    private InProcessRound() {}

    /**
     * Runs the round: participant {@code i} (id {@code ids.get(i)}) is offered shard {@code i} first; {@code workers}
     * participants run at once.
     */
    public static Outcome run(Platform platform, RoundLedger ledger, ShardPlan plan, RoundEngine engine, List<String> ids,
                              Participants participants, int workers, ProgressListener progress) {
        long p = System.nanoTime();
        List<Integer> everyone = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            everyone.add(i);
        }
        List<ParticipantLoop.Summary> first = pass(platform, ids, everyone,
                everyone.stream().map(List::of).toList(), participants, plan, workers, progress);
        double[] seconds = first.stream().mapToDouble(ParticipantLoop.Summary::seconds).toArray();
        double uniformitySeconds = first.stream().mapToDouble(ParticipantLoop.Summary::uniformitySeconds).sum();
        double optimizationSeconds = (System.nanoTime() - p) / 1e9;

        p = System.nanoTime();
        RoundEngine.Settlement settled = engine.settle(ledger);
        Screening.Result judgement = settled.judgement();
        int reassigned = settled.reopened().size();
        if (!settled.excludedNow().isEmpty()) {
            if (judgement.verdicts().stream().noneMatch(Screening.Verdict::trusted)) {
                throw new UserException("no participant's outputs can be trusted: " + String.join("; ",
                        judgement.reasons()));
            }
            Map<Integer, List<Integer>> shardsOf = new LinkedHashMap<>();
            settled.reopened().forEach((shard, who) -> shardsOf.computeIfAbsent(ids.indexOf(who), x -> new ArrayList<>())
                    .add(shard));
            List<Integer> again = new ArrayList<>(shardsOf.keySet());
            List<ParticipantLoop.Summary> more = pass(platform, ids, again, again.stream().map(shardsOf::get).toList(),
                    participants, plan, Math.min(workers, again.size()), progress);
            for (int j = 0; j < again.size(); j++) {
                seconds[again.get(j)] += more.get(j).seconds();
            }
            // the redone shards are judged against their new owners' outputs on S like the first ones
            RoundEngine.Settlement after = engine.settle(ledger);
            if (!after.excludedNow().isEmpty()) {
                throw new UserException("participants failed the screening after their shards were reassigned: "
                        + String.join("; ", after.judgement().reasons()));
            }
            settled = after;
        }
        if (!settled.fuse()) {
            throw new IllegalStateException("the round is not ready to fuse once every participant finished: "
                    + ledger.progress());
        }
        return new Outcome(judgement, reassigned, Arrays.stream(seconds).boxed().toList(), uniformitySeconds,
                optimizationSeconds, (System.nanoTime() - p) / 1e9);
    }

    /**
     * One pass: the participants at {@code who} (positions in {@code ids}) run their prior on S (unless the platform has
     * it) and on the shards given, {@code workers} at a time on a pool of that many threads. One at a time, each draws
     * its own progress bars; several at once share one bar.
     */
    private static List<ParticipantLoop.Summary> pass(Platform platform, List<String> ids, List<Integer> who,
                                                      List<List<Integer>> shards, Participants participants,
                                                      ShardPlan plan, int workers, ProgressListener progress) {
        ImageSet shared = platform.shared();
        long images = 0;
        for (int j = 0; j < who.size(); j++) {
            images += platform.hasShared(ids.get(who.get(j))) ? 0 : shared.count();
            for (int shard : shards.get(j)) {
                images += plan.shard(shard).length;
            }
        }
        CombinedProgress combined = workers > 1
                ? new CombinedProgress(progress, "optimization (" + who.size() + " participants, " + workers + " at a time)",
                        images, "img")
                : null;
        ExecutorService pool = Executors.newFixedThreadPool(workers, DaemonThreads.named("coopt-participant"));
        try {
            List<Future<ParticipantLoop.Summary>> futures = new ArrayList<>();
            for (int j = 0; j < who.size(); j++) {
                int index = who.get(j);
                int max = shards.get(j).size();
                ProgressListener own = combined == null ? progress : combined.part();
                futures.add(pool.submit(() -> {
                    try (Participant participant = participants.open(index, own)) {
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
}
