package ai.coopt.cli;

import ai.coopt.train.Training;
import ai.coopt.train.methods.MethodSpec;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code coopt train}: train a backbone with ReLA on optimized data, or with a self-supervised method from scratch. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a backbone on the shared loop: rela (regress an optimized dataset's targets, then hand off "
                + "to an SSL method), or one of the SSL methods from scratch: simclr, byol, dino, moco (v2), simsiam, "
                + "swav, dcl. The run directory becomes a model directory.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--method", required = true, description = "rela, simclr, byol, dino, moco, simsiam, swav or dcl.")
    String method;

    @Option(names = "--targets", paramLabel = "DIR", description = "Optimized dataset (coopt optimize / collab) for --method rela.")
    Path targets;

    @Option(names = "--then", description = "For rela: the SSL method to hand off to (any of the SSL methods), or none (default: byol).")
    String then;

    @Option(names = "--switch-at", description = "For rela: hand off after this fraction of the run instead of the adaptive rule (rho >= 0.995).")
    Double switchAt;

    @Mixin
    TrainOptions train;

    @Mixin
    SslOptions ssl;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        String handOff = then == null && method.equals(MethodSpec.RELA) ? MethodSpec.BYOL : then;
        MethodSpec spec = ssl.apply(MethodSpec.of(method, handOff, switchAt));
        return run(spec, targets, train, common);
    }

    /** Runs a training request and prints its result (shared with {@code prior pretrain}). */
    static int run(MethodSpec spec, Path targets, TrainOptions train, CommonOptions common) {
        ai.djl.Device device = common.engine();
        var request = new Training.Request(train.dataSpec(), train.input.split, train.input.limit, targets, train.arch, spec,
                train.config(), train.out, train.resume, device, Provenance.createdNode(train.seed),
                train.precision.choose(device));
        Training.Outcome o = Training.run(request, new CliProgress());
        ObjectNode j = Output.object();
        j.put("out", o.run().toAbsolutePath().toString());
        j.put("method", o.method());
        j.put("arch", train.arch);
        j.put("precision", request.precision().label());
        j.put("images", o.images());
        Output.subset(j, o.subset());
        j.put("steps", o.result().steps());
        j.put("train_seconds", o.result().trainSeconds());
        j.put("checkpoint_seconds", o.result().checkpointSeconds());
        j.put("final_loss", o.result().lastLoss());
        j.put("final_phase", o.result().phase());
        j.put("checkpoints", o.result().checkpoints());
        j.put("resumed", o.result().resumed());
        Output.print(common.json, j, String.format(Locale.ROOT,
                "%s: trained %s (%s) on %d images: %d steps in %.1f s of training (checkpoints %.1f s); "
                        + "final loss %.4f in phase %s; %d checkpoints%s",
                o.run(), o.method(), train.arch, o.images(), o.result().steps(), o.result().trainSeconds(),
                o.result().checkpointSeconds(), o.result().lastLoss(), o.result().phase(), o.result().checkpoints(),
                o.result().resumed() ? " (resumed)" : ""));
        return 0;
    }
}
