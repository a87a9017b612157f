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

    /** {@code coopt prior pretrain --method byol|simclr …}: a label-free prior usable as {@code --prior model:DIR}. */
    @Command(name = "pretrain", mixinStandardHelpOptions = true,
            description = "Train a prior without labels (BYOL or SimCLR); the output is a model directory usable as --prior model:DIR.")
    static final class Pretrain implements Callable<Integer> {
        @Option(names = "--method", required = true, description = "byol or simclr.")
        String method;

        @Mixin
        TrainOptions train;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            if (!method.equals(MethodSpec.BYOL) && !method.equals(MethodSpec.SIMCLR)) {
                throw new UserException("prior pretrain trains without labels or targets: --method byol or simclr, not '" + method + "'");
            }
            return TrainCommand.run(MethodSpec.of(method, null, null), null, train, common);
        }
    }
}
