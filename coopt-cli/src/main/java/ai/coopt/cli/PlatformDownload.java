package ai.coopt.cli;

import ai.coopt.platform.client.DatasetDownload;
import ai.coopt.platform.client.PlatformClient;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code coopt platform download}: the fused optimized dataset, verified file by file. */
@Command(name = "download", mixinStandardHelpOptions = true,
        description = "Download the fused optimized dataset (the same format coopt collab writes), verified file by file.")
final class PlatformDownload implements Callable<Integer> {
    @Mixin
    PlatformOptions remote;

    @Mixin
    OperatorOptions operator;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the optimized dataset.")
    Path out;

    @Option(names = "--round", paramLabel = "N", description = "Which round's dataset (default: the newest fused round's).")
    Integer round;

    @Option(names = "--wait", arity = "0..1", fallbackValue = "3600", paramLabel = "SECONDS", description = "While the "
            + "round is not fused yet, ask again (1 s, 2 s, 4 s … 15 s apart) for at most SECONDS (default with "
            + "--wait alone: 3600); without it, a dataset not ready yet is an error at once.")
    Integer waitSeconds;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        if (round != null) {
            Check.positive("--round", round);
        }
        if (waitSeconds != null) {
            Check.atLeast("--wait", waitSeconds, 0);
        }
        PlatformClient client = remote.operatorClient(operator.token(), Duration.ofMinutes(5));
        DatasetDownload.Result r = DatasetDownload.fetch(client, out, round,
                Duration.ofSeconds(waitSeconds == null ? 0 : waitSeconds), Output::note);
        ObjectNode o = Output.object();
        o.put("out", out.toAbsolutePath().toString());
        o.put("round", r.round());
        o.put("count", r.count());
        o.put("dim", r.dim());
        o.put("files", r.files());
        o.put("bytes", r.bytes());
        Output.print(common.json, o, String.format(Locale.ROOT, "downloaded round %d's dataset to %s: %d targets of dim %d "
                + "(%d files, %.1f MB), verified", r.round(), out, r.count(), r.dim(), r.files(), r.bytes() / 1e6));
        return 0;
    }
}
