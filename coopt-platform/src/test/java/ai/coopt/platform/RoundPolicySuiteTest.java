package ai.coopt.platform;

import ai.coopt.collab.Alignment;
import ai.coopt.collab.InProcessPlatform;
import ai.coopt.collab.InProcessRound;
import ai.coopt.collab.RoundEngine;
import ai.coopt.collab.RoundPolicy;
import ai.coopt.collab.ShardOutputs;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;
import ai.coopt.data.Sharding;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.AdversarialSuiteTest.Simulated;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Shard;
import ai.coopt.platform.db.ShardState;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.util.ProgressListener;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One round policy's suite, run against both platforms: {@code coopt collab}'s in-process round and the networked
 * platform over loopback HTTP. Both settle their rounds with the same {@link RoundEngine} and policy, so the same
 * participants must come to the same decisions: who is left out and why, who redoes its shards, the reference, and
 * that fusion starts once every shard is accepted from a trusted participant.
 */
class RoundPolicySuiteTest {
    private static final int N = 240;
    private static final int SHARDS = 4;
    private static final int SHARED = 60;

    /** A round run on one of the platforms; names are the simulated participants', ids the platform's. */
    interface Round extends AutoCloseable {
        /** Runs these participants until the round is fused (or, in process, ready to fuse); each name's id. */
        Map<String, String> run(List<Simulated> participants) throws Exception;

        /** Each accepted shard's participant id. */
        Map<Integer, String> shardOwners();

        /** The participants left out, by id, with why. */
        Map<String, String> excluded();

        /** The prior of the participant the outputs were aligned onto. */
        String referencePrior();

        @Override
        void close();
    }

    abstract static class Suite {
        abstract Round open(Path tmp);

        @Test
        void honestParticipantsAreAllTrustedAndEveryShardIsFused(@TempDir Path tmp) throws Exception {
            try (Round round = open(tmp)) {
                Map<String, String> ids = round.run(List.of(new Simulated("honest-1", 1), new Simulated("honest-2", 2),
                        new Simulated("honest-3", 3), new Simulated("honest-4", 4)));
                assertEquals(Map.of(), round.excluded());
                assertEquals(SHARDS, round.shardOwners().size(), round.shardOwners().toString());
                assertTrue(ids.values().containsAll(round.shardOwners().values()), round.shardOwners().toString());
                assertTrue(round.referencePrior().startsWith("linear:"), round.referencePrior());
            }
        }

        @Test
        void noiseOnTheSharedSubsetIsLeftOutAndItsShardsAreRedoneByTrustedParticipants(@TempDir Path tmp)
                throws Exception {
            // the same noise for the same image wherever it is asked, so that only the judgement on S can catch it
            Simulated noise = new Simulated("noise", 10) {
                @Override
                float[] honest(ImageSet images) {
                    return AdversarialSuiteTest.noisePerImage(images);
                }
            };
            try (Round round = open(tmp)) {
                Map<String, String> ids = round.run(List.of(new Simulated("honest-1", 1), new Simulated("honest-2", 2),
                        new Simulated("honest-3", 3), noise));
                assertEquals(Set.of(ids.get("noise")), round.excluded().keySet());
                assertTrue(round.excluded().get(ids.get("noise")).contains("predicted by"), round.excluded().toString());
                assertEquals(SHARDS, round.shardOwners().size(), round.shardOwners().toString());
                assertFalse(round.shardOwners().containsValue(ids.get("noise")), round.shardOwners().toString());
                assertFalse(round.referencePrior().equals("linear:10"), "the noise is not the reference");
            }
        }
    }

    private static ImageSet images() {
        return DatasetSpec.parse("fashion-mnist").load("train", N);
    }

    /** {@code coopt collab}'s round: the in-process platform, driven by {@link InProcessRound}. */
    @Nested
    class InProcess extends Suite {
        @Override
        Round open(Path tmp) {
            ImageSet images = images();
            ShardPlan plan = Sharding.plan(images.count(), SHARDS, SHARED, 0);
            RoundEngine engine = new RoundEngine(RoundPolicy.screened(Alignment.named("ridge")));
            return new Round() {
                private InProcessPlatform platform;
                private InProcessRound.Outcome outcome;

                @Override
                public Map<String, String> run(List<Simulated> participants) {
                    Map<String, Integer> preferred = new LinkedHashMap<>();
                    List<String> ids = participants.stream().map(Simulated::id).toList();
                    ids.forEach(id -> preferred.put(id, ids.indexOf(id)));
                    platform = new InProcessPlatform(images, plan, preferred);
                    outcome = InProcessRound.run(platform, platform, plan, engine, ids, (i, progress) -> participants.get(i),
                            1, ProgressListener.NONE);
                    return ids.stream().collect(Collectors.toMap(id -> id, id -> id));
                }

                @Override
                public Map<Integer, String> shardOwners() {
                    Map<Integer, String> owners = new LinkedHashMap<>();
                    for (ShardOutputs s : platform.shardOutputs()) {
                        owners.put(s.shard(), s.participant());
                    }
                    return owners;
                }

                @Override
                public Map<String, String> excluded() {
                    return platform.excluded();
                }

                @Override
                public String referencePrior() {
                    return outcome.judgement().verdicts().get(outcome.judgement().reference()).prior();
                }

                @Override
                public void close() {}
            };
        }
    }

    /** The networked platform on loopback: participants enrolled with keys, signed requests, its referee. */
    @Nested
    class Networked extends Suite {
        @Override
        Round open(Path tmp) {
            ImageSet images = images();
            PlatformConfig config = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", N, null, N,
                    images.fingerprint(), 0, SHARDS, null, SHARED, 0, 120, "ridge", 0, Instant.now().toString(), "test",
                    List.of("t"));
            TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, config, images, null);
            PlatformStore store = running.store();
            return new Round() {
                @Override
                public Map<String, String> run(List<Simulated> participants) throws Exception {
                    Map<String, Throwable> ended = new ConcurrentHashMap<>();
                    Map<String, String> idOf = AdversarialSuiteTest.runToFusion(running, tmp, participants, p -> false,
                            ended);
                    for (Map.Entry<String, Throwable> e : ended.entrySet()) {
                        assertTrue(excluded().containsKey(idOf.get(e.getKey())), e.getKey() + " ended with " + e.getValue());
                    }
                    return idOf;
                }

                @Override
                public Map<Integer, String> shardOwners() {
                    Map<Long, String> uploader = new LinkedHashMap<>();
                    store.uploads().all().forEach(u -> uploader.put(u.id(), u.participantId()));
                    Map<Integer, String> owners = new LinkedHashMap<>();
                    for (Shard s : store.rounds().shards()) {
                        if (s.state() == ShardState.ACCEPTED) {
                            owners.put(s.shard(), uploader.get(s.acceptedUpload()));
                        }
                    }
                    return owners;
                }

                @Override
                public Map<String, String> excluded() {
                    Map<String, String> out = new LinkedHashMap<>();
                    store.participants().all().stream().filter(ai.coopt.platform.db.Participant::quarantined)
                            .forEach(p -> out.put(p.id(), p.quarantineReason()));
                    return out;
                }

                @Override
                public String referencePrior() {
                    OptimizedDataset fused = OptimizedDataset.read(tmp.resolve("platform").resolve("fused"));
                    List<ManifestProvenance.Participant> described = fused.provenance().participants();
                    return described.get(fused.provenance().alignment().reference()).prior();
                }

                @Override
                public void close() {
                    running.close();
                }
            };
        }
    }
}
