package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.bench.Throughput;
import ai.coopt.engine.OneDnn;
import ai.coopt.nn.Architectures;
import ai.coopt.platform.PlatformHome;
import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.bench.LoadBenchmark;
import ai.coopt.platform.bench.SimulatedOutputs;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.PlatformStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code coopt bench …}: performance measurements. */
@Command(name = "bench", description = "Measure performance.", mixinStandardHelpOptions = true,
        subcommands = {BenchCommand.ThroughputCommand.class, BenchCommand.PcaCommand.class, BenchCommand.PlatformLoadCommand.class})
final class BenchCommand {

    /** {@code coopt bench throughput --arch A [--batch B]}. */
    @Command(name = "throughput", mixinStandardHelpOptions = true,
            description = "Training and inference images/s of an architecture on synthetic input "
                    + "(loss 1 - cos, AdamW), comparable with scripts/bench_pytorch.py.")
    static final class ThroughputCommand implements Callable<Integer> {
        @Option(names = "--arch", required = true, description = "Architecture: ${COMPLETION-CANDIDATES}.",
                completionCandidates = ArchNames.class)
        String arch;

        @Option(names = "--batch", defaultValue = "256", description = "Batch size (default: ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--size", defaultValue = "28", description = "Image height and width (default: ${DEFAULT-VALUE}).")
        int size;

        @Option(names = "--channels", defaultValue = "1", description = "Image channels, 1 or 3 (default: ${DEFAULT-VALUE}).")
        int channels;

        @Option(names = "--steps", defaultValue = "30", description = "Timed steps (default: ${DEFAULT-VALUE}).")
        int steps;

        @Option(names = "--warmup", defaultValue = "10", description = "Untimed warm-up steps (default: ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--unfolded", description = "Infer through the training network's blocks in evaluation mode "
                + "instead of the folded inference form that priors use.")
        boolean unfolded;

        @Option(names = "--trace", paramLabel = "PREFIX", description = "After the timed steps, profile three more "
                + "training and inference steps with PyTorch's profiler into PREFIX-train.json and PREFIX-infer.json "
                + "(Chrome trace format; scripts/summarize_op_profile.py sums them by operator).")
        Path trace;

        @Mixin
        CommonOptions common;

        @Mixin
        PrecisionOption precision;

        @Override
        public Integer call() {
            Architectures.create(arch);
            Check.positive("--batch", batch);
            Check.positive("--size", size);
            Check.positive("--steps", steps);
            Check.atLeast("--warmup", warmup, 0);
            Check.channels(channels);
            ai.djl.Device device = common.engine();
            Throughput.Result r = Throughput.measure(arch, batch, channels, size, warmup, steps, !unfolded,
                    trace, device, precision.choose(device));
            ObjectNode o = Output.object();
            o.put("arch", r.arch());
            o.put("parameters", r.parameters());
            o.put("batch", r.batch());
            o.put("input", r.channels() + "x" + r.size() + "x" + r.size());
            o.put("threads", r.threads());
            o.put("steps", r.steps());
            o.put("inference", r.folded() ? "folded" : "unfolded");
            o.put("onednn", OneDnn.enabled());
            o.put("train_img_per_s", round(r.trainImgPerS()));
            o.put("infer_img_per_s", round(r.inferImgPerS()));
            o.put("infer_precision", r.precision().label());
            if (r.precision() != ai.coopt.engine.Precision.FP32) {
                o.put("infer_fp32_img_per_s", round(r.inferFp32ImgPerS()));
                o.put("infer_speedup_over_fp32", Math.round(r.inferImgPerS() / r.inferFp32ImgPerS() * 100) / 100.0);
                o.put("infer_relative_error", r.inferRelativeError());
                o.put("train_fp32_img_per_s", round(r.trainFp32ImgPerS()));
                o.put("train_speedup_over_fp32", Math.round(r.trainImgPerS() / r.trainFp32ImgPerS() * 100) / 100.0);
            }
            o.put("train_precision", r.precision().label());
            // each timed step of the measured precision: [start, milliseconds since the epoch; duration, ms]
            var steps = o.putArray("train_steps");
            for (Throughput.Step s : r.trainSteps()) {
                steps.addArray().add(s.startEpochMs()).add(Math.round(s.ms() * 100) / 100.0);
            }
            o.put("train_cpu_user_s", round(r.trainCpuUserS()));
            o.put("train_cpu_system_s", round(r.trainCpuSysS()));
            o.put("matmul_peak_gflops", round(r.matmulPeakGflops()));
            Output.print(common.json, o, String.format(Locale.ROOT,
                    "%s, batch %d, %s, %d threads%s: train %.0f img/s, infer %.0f img/s (training CPU: user %.1f s, system %.1f s; matmul peak %.0f GFLOP/s)",
                    r.arch(), r.batch(), o.get("input").asText(), r.threads(),
                    o.get("onednn").asBoolean() ? "" : ", oneDNN off", r.trainImgPerS(), r.inferImgPerS(),
                    r.trainCpuUserS(), r.trainCpuSysS(), r.matmulPeakGflops())
                    + (r.precision() == ai.coopt.engine.Precision.FP32 ? "" : String.format(Locale.ROOT,
                    "; in %s: train %.0f img/s against fp32 %.0f img/s (%.2fx), infer %.0f img/s against fp32 %.0f img/s"
                            + " (%.2fx), features within %.2g of fp32's",
                    r.precision().label(), r.trainImgPerS(), r.trainFp32ImgPerS(),
                    r.trainImgPerS() / r.trainFp32ImgPerS(), r.inferImgPerS(), r.inferFp32ImgPerS(),
                    r.inferImgPerS() / r.inferFp32ImgPerS(), r.inferRelativeError())));
            return 0;
        }

        private static double round(double v) {
            return Math.round(v * 10) / 10.0;
        }
    }

    /** {@code coopt bench pca [--rows N] [--dims D] [--k K]}. */
    @Command(name = "pca", mixinStandardHelpOptions = true,
            description = "Time PCA (covariance, eigen-decomposition, projection) on random N x D outputs.")
    static final class PcaCommand implements Callable<Integer> {
        @Option(names = "--rows", defaultValue = "60000", description = "N (default: ${DEFAULT-VALUE}).")
        int rows;

        @Option(names = "--dims", defaultValue = "512", description = "D (default: ${DEFAULT-VALUE}).")
        int dims;

        @Option(names = "--k", defaultValue = "512", description = "Components kept (default: ${DEFAULT-VALUE}).")
        int k;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            Check.atLeast("--rows", rows, 2);
            Check.positive("--dims", dims);
            Check.positive("--k", k);
            if (k > Math.min(rows, dims)) {
                throw new ai.coopt.UserException("--k " + k + " exceeds min(--rows, --dims) = " + Math.min(rows, dims));
            }
            common.engine();
            var t = ai.coopt.optimize.PcaBenchmark.run(rows, dims, k, 0);
            ObjectNode o = Output.object();
            o.put("rows", rows);
            o.put("dims", dims);
            o.put("k", k);
            o.put("covariance_seconds", t.centerCovarianceSeconds());
            o.put("eigen_seconds", t.eigenSeconds());
            o.put("projection_seconds", t.projectionSeconds());
            o.put("total_seconds", t.totalSeconds());
            Output.print(common.json, o, String.format(Locale.ROOT,
                    "PCA of %d x %d to %d: covariance %.2f s, eigen %.2f s, projection %.2f s, total %.2f s",
                    rows, dims, k, t.centerCovarianceSeconds(), t.eigenSeconds(), t.projectionSeconds(), t.totalSeconds()));
            return 0;
        }
    }

    @Command(name = "platform-load", mixinStandardHelpOptions = true,
            description = "Load on a platform: N simulated participants (precomputed, plausible outputs: a latent per "
                    + "sample seen through each participant's own linear map) enrol, lease and upload until the round is "
                    + "done, sending their requests to the platform's servers in turn; latency percentiles of lease and "
                    + "upload, a check that every shard was accepted exactly once and none granted twice, and (with "
                    + "--servers) each server process's peak RSS. Either against running servers (--platform URL, "
                    + "repeatable) or against --servers N serve processes it starts itself on a new round in --dir.")
    static final class PlatformLoadCommand implements Callable<Integer> {
        @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The platform's directory: the running "
                + "platform's (for the invites), or with --servers a new one (absent or empty).")
        Path dir;

        @Option(names = "--platform", paramLabel = "URL", description = "A running server of the platform (loopback); "
                + "repeat it for each serve process of the round.")
        List<String> platforms;

        @Option(names = "--servers", paramLabel = "N", description = "Start N `platform serve` processes on free loopback "
                + "ports, one round in --dir on --db (the first starts it, the others join), and stop them at the end.")
        Integer servers;

        @Option(names = "--data", defaultValue = "fashion-mnist", paramLabel = "SPEC", description = "With --servers: the "
                + "round's data (default: ${DEFAULT-VALUE}).")
        String data;

        @Option(names = "--limit", defaultValue = "20000", description = "With --servers: images in the round (default: ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--shards", defaultValue = "200", description = "With --servers: shards (default: ${DEFAULT-VALUE}).")
        int shards;

        @Option(names = "--shared-count", defaultValue = "20", description = "With --servers: size of S (default: ${DEFAULT-VALUE}).")
        int sharedCount;

        @Option(names = "--participants", defaultValue = "50", description = "Simulated participants at once (default: ${DEFAULT-VALUE}).")
        int participants;

        @Option(names = "--dim", defaultValue = "32", description = "Width of the simulated outputs, at least "
                + SimulatedOutputs.LATENT + " (default: ${DEFAULT-VALUE}).")
        int dim;

        @Option(names = "--work", required = true, paramLabel = "DIR", description = "Where the simulated participants' keys "
                + "and files (and the serve processes' logs) go.")
        Path work;

        @Mixin
        DbOption db;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() throws Exception {
            Check.positive("--participants", participants);
            Check.atLeast("--dim", dim, SimulatedOutputs.LATENT);
            boolean attach = platforms != null && !platforms.isEmpty();
            if (attach == (servers != null)) {
                throw new UserException("give either --platform URL (running servers) or --servers N (start them)");
            }
            if (attach) {
                PlatformHome.requireExisting(dir);
                try (Database database = db.open(db.resolve(dir))) {
                    return report(LoadBenchmark.run(platforms, new PlatformStore(database),
                            OperatorToken.read(dir.resolve(OperatorToken.FILE)), participants, dim, work,
                            line -> { }), List.of());
                }
            }
            Check.positive("--servers", servers);
            Check.positive("--shards", shards);
            Check.positive("--limit", limit);
            Check.positive("--shared-count", sharedCount);
            if (Files.exists(dir)) {
                boolean empty;
                try (var entries = Files.isDirectory(dir) ? Files.list(dir) : null) {
                    empty = entries != null && entries.findAny().isEmpty();
                }
                if (!empty) {
                    throw new UserException(dir + " exists and is not an empty directory: --servers starts a new round in a new one");
                }
            }
            String dbUrl = db.resolve(dir);
            if (db.db != null) {
                try (Database database = db.open(dbUrl)) {
                    if (new PlatformStore(database).rounds().current().isPresent()) {
                        throw new UserException("the database " + PlatformHome.redacted(dbUrl) + " holds a round already:"
                                + " give --servers a fresh one (for PostgreSQL, a new schema: ...&schema=NAME)");
                    }
                }
            }
            List<String> args = new ArrayList<>(List.of("--dir", dir.toString(), "--db", dbUrl, "--data", data,
                    "--limit", Integer.toString(limit), "--shards", Integer.toString(shards),
                    "--shared-count", Integer.toString(sharedCount)));
            if (db.passwordFile != null) {
                args.addAll(List.of("--db-password-file", db.passwordFile.toString()));
            }
            try (ServeProcesses started = ServeProcesses.start(servers, work.resolve("logs"), args);
                 Database database = db.open(dbUrl)) {
                LoadBenchmark.Result r = LoadBenchmark.run(started.urls(), new PlatformStore(database),
                        OperatorToken.read(dir.resolve(OperatorToken.FILE)), participants, dim,
                        work, line -> { });
                return report(r, started.measure());
            }
        }

        private int report(LoadBenchmark.Result r, List<ServeProcesses.Server> processes) {
            ObjectNode o = ai.coopt.store.Json.mapper().valueToTree(r);
            o.set("server_processes", ai.coopt.store.Json.mapper().valueToTree(processes));
            String rss = processes.isEmpty() ? "" : "; server peak RSS " + processes.stream()
                    .map(p -> p.peakRssBytes() == null ? "?" : String.format(Locale.ROOT, "%.2f GB", p.peakRssBytes() / 1e9))
                    .collect(java.util.stream.Collectors.joining(", "));
            Output.print(common.json, o, String.format(Locale.ROOT,
                    "%d participants, %d shards, %d server(s) in %.1f s; lease p50 %.1f ms p99 %.1f ms; upload p50 %.1f ms"
                            + " p99 %.1f ms; audit answer p50 %.1f ms p99 %.1f ms; %d waits, %d refusals, %d double leases;"
                            + " every shard accepted exactly once: %s; %d audits passed, %d quarantined%s",
                    r.participants(), r.shards(), r.servers(), r.seconds(), r.lease().p50(), r.lease().p99(), r.upload().p50(),
                    r.upload().p99(), r.audit().p50(), r.audit().p99(), r.waits(), r.refusals(), r.doubleLeases(),
                    r.acceptedOnce(), r.auditsPassed(), r.quarantined(), rss));
            return r.acceptedOnce() && r.doubleLeases() == 0 && r.quarantined() == 0 && r.auditsPassed() == r.shards() ? 0 : 1;
        }
    }
}
