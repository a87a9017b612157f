package ai.coopt.cli;

import ai.coopt.data.Augmentation;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.train.TrainingConfig;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options {@code coopt train} and {@code coopt prior pretrain} share: data, backbone, budget, optimiser, run directory. */
final class TrainOptions {
    @Mixin
    PrecisionOption precision;

    @Mixin
    DataOptions input;

    @Option(names = "--arch", required = true, description = "Backbone: ${COMPLETION-CANDIDATES}.", completionCandidates = ArchNames.class)
    String arch;

    @Option(names = "--epochs", defaultValue = "0", description = "Train for N epochs (or give --budget-seconds).")
    int epochs;

    @Option(names = "--budget-seconds", defaultValue = "0", description = "Train for S seconds of training wall time (or give --epochs).")
    double budgetSeconds;

    @Option(names = "--batch", defaultValue = "128", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "1e-3", description = "AdamW learning rate (default: ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--lr-schedule", defaultValue = "constant", description = "constant, or cosine to --min-lr after --warmup (default: ${DEFAULT-VALUE}).")
    String lrSchedule;

    @Option(names = "--warmup", defaultValue = "0", description = "Share of the run the cosine schedule warms up over, linearly from 0 (default: ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--min-lr", defaultValue = "0", description = "The cosine schedule's final learning rate (default: ${DEFAULT-VALUE}).")
    double minLr;

    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay (default: ${DEFAULT-VALUE}).")
    float weightDecay;

    @Option(names = "--weight-decay-end", description = "Weight decay at the end, reached by a half cosine from --weight-decay (DINO: 0.04 to 0.4); default: constant.")
    Double weightDecayEnd;

    @Option(names = "--no-bias-norm-decay", description = "Do not decay biases and normalisation parameters (one-dimensional ones), as DINO and solo-learn do.")
    boolean noBiasNormDecay;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds weights, data order and augmentation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--workers", defaultValue = "1", description = "Threads preparing augmented batches (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--checkpoint-every-seconds", defaultValue = "0", description = "Keep the backbone every S seconds of training (0 = only first and last).")
    double checkpointEverySeconds;

    @Option(names = "--data-ratio", defaultValue = "1", description = "Train each epoch on a fresh random share R of the data (default: ${DEFAULT-VALUE}).")
    double dataRatio;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Run directory: ends up a model directory with metrics.jsonl, loss.png and checkpoints/.")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its newest checkpoint.")
    boolean resume;

    DatasetSpec dataSpec() {
        return input.spec();
    }

    TrainingConfig config() {
        Check.threads("--workers", workers, 1);
        return new TrainingConfig(epochs, budgetSeconds, batch, lr, weightDecay, seed, workers, checkpointEverySeconds,
                dataRatio, Augmentation.Params.defaults(), lrSchedule, warmup, minLr,
                weightDecayEnd == null ? weightDecay : weightDecayEnd, !noBiasNormDecay);
    }
}
