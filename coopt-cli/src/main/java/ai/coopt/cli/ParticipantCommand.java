package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.collab.LocalParticipant;
import ai.coopt.collab.ParticipantLoop;
import ai.coopt.data.ImageSet;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.CachingParticipant;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.client.RemotePlatform;
import ai.coopt.prior.Priors;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Scratch;
import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code coopt participant …}: take part in a platform's round from this machine. */
@Command(name = "participant", mixinStandardHelpOptions = true,
        description = "Take part in a platform's round: enrol a key with an invite, then run a prior on the shards the "
                + "platform leases and upload the outputs.",
        subcommands = {ParticipantCommand.Enroll.class, ParticipantCommand.Run.class})
final class ParticipantCommand {
    private ParticipantCommand() {}

    @Command(name = "enroll", mixinStandardHelpOptions = true,
            description = "Create an Ed25519 key pair (the private key file is readable by you only) and register its "
                    + "public key with the platform, using a one-time invite.")
    static final class Enroll implements Callable<Integer> {
        @Mixin
        PlatformOptions remote;

        @Option(names = "--invite", required = true, paramLabel = "TOKEN", description = "The invite from coopt platform invite.")
        String invite;

        @Option(names = "--key", required = true, paramLabel = "FILE", description = "Where to write the new key (must not exist).")
        Path key;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            if (Files.exists(key)) {
                throw new UserException(key + " exists; enrol with a new key file (one key per participant)");
            }
            KeyFile keys = KeyFile.create(key);
            boolean enrolled = false;
            try {
                PlatformClient client = remote.client(keys, Duration.ofMinutes(2));
                JsonNode r = client.post("/v1/enroll", Map.of("invite", invite, "public_key", keys.publicKeyBase64()), keys);
                enrolled = true;
                ObjectNode o = Output.object();
                o.put("participant_id", r.path("participant_id").asText());
                o.put("name", r.path("name").asText());
                o.put("key", key.toAbsolutePath().toString());
                Output.print(common.json, o, "enrolled as " + r.path("name").asText() + " (" + r.path("participant_id").asText()
                        + "); key " + key);
            } catch (PlatformClient.Refusal e) {
                throw new UserException("the platform refused the enrolment: " + e.getMessage());
            } finally {
                if (!enrolled) {
                    AtomicFiles.deleteQuietly(key);
                }
            }
            return 0;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run a prior for the platform: send its outputs on the shared subset, then lease a shard, embed "
                    + "it, upload, and repeat until every shard of the round is accepted. Resumable after a kill.")
    static final class Run implements Callable<Integer> {
        @Mixin
        PlatformOptions remote;

        @Option(names = "--key", required = true, paramLabel = "FILE", description = "The key enrolled with coopt participant enroll.")
        Path key;

        @Option(names = "--prior", required = true, paramLabel = "SPEC", description = "The prior this participant runs (zoo:NAME, model:DIR, random:ARCH[:SEED], torchscript:FILE, onnx:FILE).")
        String prior;

        @Option(names = "--data", paramLabel = "SPEC", description = "A local copy of the platform's data (same images): shards are cut "
                + "from it and checked against the platform's checksums instead of downloaded.")
        String data;

        @Option(names = "--max-shards", defaultValue = "0", description = "Stop after this many shards (default 0: until the round is done).")
        int maxShards;

        @Option(names = "--work-dir", paramLabel = "DIR", description = "Where shard files and outputs wait for upload (default: KEYFILE.work).")
        Path workDir;

        @Option(names = "--batch", defaultValue = "256", description = "Images per prior call (default: ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--retry-seconds", defaultValue = "600", description = "Keep retrying an unreachable platform this long (default: ${DEFAULT-VALUE}).")
        int retrySeconds;

        @Mixin
        CommonOptions common;

        @Mixin
        PrecisionOption precision;

        @Override
        public Integer call() {
            Check.atLeast("--max-shards", maxShards, 0);
            Check.positive("--batch", batch);
            Check.positive("--retry-seconds", retrySeconds);
            Priors.check(prior);
            Device device = common.engine();
            ai.coopt.engine.Precision computeIn = precision.choose(device);
            KeyFile keys = KeyFile.read(key);
            Path work = workDir != null ? workDir : key.resolveSibling(key.getFileName() + ".work");
            try {
                Files.createDirectories(work);
            } catch (IOException e) {
                throw new UserException(work + ": cannot create: " + e.getMessage());
            }
            PlatformClient client = remote.client(keys, Duration.ofSeconds(retrySeconds));
            JsonNode round;
            try {
                // the round (shared ids, seed) is for enrolled participants: the request is signed
                round = client.get("/v1/round");
            } catch (PlatformClient.Refusal e) {
                throw new UserException("the platform refused: " + e.getMessage());
            }
            ImageSet local = data == null ? null : localData(round);
            String id = keys.participantId();
            RemotePlatform remote = new RemotePlatform(client, id, work, local);
            ImageSet shared = remote.shared();
            long t0 = System.nanoTime();
            ParticipantLoop.Summary s;
            try (Scratch scratch = Scratch.beside(work.resolve("embed"));
                 LocalParticipant inner = new LocalParticipant(id, prior, shared, device, computeIn, batch, new CliProgress(),
                         scratch);
                 CachingParticipant participant = new CachingParticipant(inner, inner.weightsSha256(), remote::outputsFile)) {
                s = ParticipantLoop.run(remote, participant, maxShards, Thread::sleep);
            } catch (PlatformClient.Refusal e) {
                throw new UserException("the platform refused: " + e.getMessage());
            }
            ObjectNode o = Output.object();
            o.put("participant_id", id);
            o.put("prior", prior);
            o.put("shards", s.shards());
            o.put("images", s.images());
            o.put("seconds", (System.nanoTime() - t0) / 1e9);
            o.put("shared_seconds", s.sharedSeconds());
            o.put("uniformity_seconds", s.uniformitySeconds());
            o.put("images_per_second", s.images() / Math.max(1e-9, s.seconds()));
            Output.print(common.json, o, String.format(Locale.ROOT, "%s: %d shards (%d images) optimized with %s in %.1f s",
                    id, s.shards(), s.images(), prior, s.seconds()));
            return 0;
        }

        /** The local copy, read with the platform's split, limit (and its seed) and image size. */
        private ImageSet localData(JsonNode round) {
            String split = round.path("split").asText("train");
            int limit = round.path("limit").asInt(0);
            long limitSeed = round.path("limit_seed").asLong(0);
            Integer size = round.hasNonNull("image_size") ? round.get("image_size").asInt() : null;
            return ai.coopt.dataset.DatasetSpec.parse(data).withImageOptions(size, false).withLimitSeed(limitSeed)
                    .withProgress(new CliProgress()).load(split, limit);
        }
    }
}
