package ai.coopt.train;

import ai.coopt.UserException;
import ai.coopt.data.Augmentation;

import static ai.coopt.Setting.BATCH_SIZE;
import static ai.coopt.Setting.BUDGET_SECONDS;
import static ai.coopt.Setting.CHECKPOINT_EVERY_SECONDS;
import static ai.coopt.Setting.DATA_RATIO;
import static ai.coopt.Setting.EPOCHS;
import static ai.coopt.Setting.LEARNING_RATE;
import static ai.coopt.Setting.LR_SCHEDULE;
import static ai.coopt.Setting.MIN_LEARNING_RATE;
import static ai.coopt.Setting.WARMUP;
import static ai.coopt.Setting.WEIGHT_DECAY;
import static ai.coopt.Setting.WEIGHT_DECAY_END;
import static ai.coopt.Setting.WORKERS;

/**
 * The loop's hyper-parameters. Exactly one of {@code epochs} and {@code budgetSeconds} is set.
 *
 * @param epochs passes over the (sub-sampled) data, or 0 when training to a time budget
 * @param budgetSeconds training wall time to spend (excluding target generation and checkpoint
 *     writing), or 0 when training for a number of epochs
 * @param checkpointEverySeconds keep the backbone every this many training seconds (0 = only at
 *     the start and the end)
 * @param dataRatio the share of the data each epoch draws afresh (1 = all of it)
 * @param learningRate the base learning rate (AdamW's)
 * @param lrSchedule {@code constant} or {@code cosine} (to {@code minLearningRate} at the end, after a linear warm-up
 *     from 0 over {@code warmup} of the run)
 * @param weightDecayEnd the weight decay at the end of the run, reached by a half cosine from {@code weightDecay}
 *     (DINO's 0.04 → 0.4); equal to {@code weightDecay} for a constant decay
 * @param decayBiasAndNorm whether biases and normalisation parameters (every one-dimensional parameter) are decayed
 *     too; the self-supervised reference code (DINO, solo-learn) excludes them
 */
public record TrainingConfig(int epochs, double budgetSeconds, int batchSize, float learningRate, float weightDecay,
                             long seed, int workers, double checkpointEverySeconds, double dataRatio,
                             Augmentation.Params augmentation, String lrSchedule, double warmup, double minLearningRate,
                             double weightDecayEnd, boolean decayBiasAndNorm) {
    /** A constant learning rate and weight decay, applied to every parameter (the loop's behaviour before schedules). */
    public TrainingConfig(int epochs, double budgetSeconds, int batchSize, float learningRate, float weightDecay,
                          long seed, int workers, double checkpointEverySeconds, double dataRatio,
                          Augmentation.Params augmentation) {
        this(epochs, budgetSeconds, batchSize, learningRate, weightDecay, seed, workers, checkpointEverySeconds,
                dataRatio, augmentation, Schedule.CONSTANT, 0, 0, weightDecay, true);
    }

    public TrainingConfig {
        if ((epochs > 0) == (budgetSeconds > 0)) {
            throw new UserException(names -> "give exactly one of " + names.of(EPOCHS) + " N and "
                    + names.of(BUDGET_SECONDS) + " S (both positive)");
        }
        if (epochs < 0 || budgetSeconds < 0) {
            throw new UserException(names -> names.of(EPOCHS) + " and " + names.of(BUDGET_SECONDS)
                    + " must be positive");
        }
        if (batchSize < 2) {
            throw new UserException(names -> names.of(BATCH_SIZE)
                    + " must be at least 2 (batch norm and contrastive losses need pairs), not " + batchSize);
        }
        if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
            throw new UserException(names -> names.of(LEARNING_RATE) + " must be a positive number, not "
                    + learningRate);
        }
        if (!(weightDecay >= 0) || Float.isInfinite(weightDecay)) {
            throw new UserException(names -> names.of(WEIGHT_DECAY) + " must be zero or positive, not " + weightDecay);
        }
        if (!(checkpointEverySeconds >= 0)) {
            throw new UserException(names -> names.of(CHECKPOINT_EVERY_SECONDS) + " must be zero or positive, not "
                    + checkpointEverySeconds);
        }
        if (!(dataRatio > 0 && dataRatio <= 1)) {
            throw new UserException(names -> names.of(DATA_RATIO) + " must be in (0, 1], not " + dataRatio);
        }
        if (workers < 1) {
            throw new UserException(names -> names.of(WORKERS) + " must be at least 1");
        }
        if (!Schedule.CONSTANT.equals(lrSchedule) && !Schedule.COSINE.equals(lrSchedule)) {
            throw new UserException(names -> names.of(LR_SCHEDULE) + " must be constant or cosine, not '" + lrSchedule
                    + "'");
        }
        if (!(warmup >= 0 && warmup < 1)) {
            throw new UserException(names -> names.of(WARMUP) + " is a share of the run in [0, 1), not " + warmup);
        }
        if (warmup > 0 && Schedule.CONSTANT.equals(lrSchedule)) {
            throw new UserException(names -> names.of(WARMUP) + " needs " + names.of(LR_SCHEDULE) + " cosine");
        }
        if (!(minLearningRate >= 0 && minLearningRate <= learningRate)) {
            throw new UserException(names -> names.of(MIN_LEARNING_RATE) + " must lie in [0, "
                    + names.of(LEARNING_RATE) + "], not " + minLearningRate);
        }
        if (!(weightDecayEnd >= 0) || Double.isInfinite(weightDecayEnd)) {
            throw new UserException(names -> names.of(WEIGHT_DECAY_END) + " must be zero or positive, not "
                    + weightDecayEnd);
        }
    }

    /** The learning rate over the run. */
    public Schedule learningRateSchedule() {
        return Schedule.COSINE.equals(lrSchedule) ? Schedule.cosine(learningRate, minLearningRate, warmup)
                : Schedule.constant(learningRate);
    }

    /** The weight decay over the run: constant, or a half cosine to {@code weightDecayEnd}. */
    public Schedule weightDecaySchedule() {
        return weightDecayEnd == weightDecay ? Schedule.constant(weightDecay)
                : Schedule.cosine(weightDecay, weightDecayEnd, 0);
    }
}
