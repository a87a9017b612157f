package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.train.methods.MethodSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code coopt prior …}: priors the project makes itself. */
@Command(name = "prior", description = "Make priors.", mixinStandardHelpOptions = true,
        subcommands = PriorCommand.Pretrain.class)
final class PriorCommand {

    /** {@code coopt prior pretrain --method SSL …}: a label-free prior usable as {@code --prior model:DIR}. */
    @Command(name = "pretrain", mixinStandardHelpOptions = true,
            description = "Train a prior without labels (simclr, byol, dino, moco, simsiam, swav or dcl); the output is a "
                    + "model directory usable as --prior model:DIR.")
    static final class Pretrain implements Callable<Integer> {
        @Option(names = "--method", required = true, description = "simclr, byol, dino, moco, simsiam, swav or dcl.")
        String method;

        @Mixin
        TrainOptions train;

        @Mixin
        SslOptions ssl;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            if (!MethodSpec.SSL_NAMES.contains(method)) {
                throw new UserException("prior pretrain trains without labels or targets: --method one of "
                        + String.join(", ", MethodSpec.SSL_NAMES) + ", not '" + method + "'");
            }
            return TrainCommand.run(ssl.apply(MethodSpec.of(method, null, null)), null, train, common);
        }
    }
}
