package ai.coopt.train;

import ai.coopt.UserException;
import ai.coopt.data.Augmentation;

/**
 * The loop's hyper-parameters. Exactly one of {@code epochs} and {@code budgetSeconds} is set.
 *
 * @param epochs passes over the (sub-sampled) data, or 0 when training to a time budget
 * @param budgetSeconds training wall time to spend (excluding target generation and checkpoint
 *     writing), or 0 when training for a number of epochs
 * @param checkpointEverySeconds keep the backbone every this many training seconds (0 = only at
 *     the start and the end)
 * @param dataRatio the share of the data each epoch draws afresh (1 = all of it)
 */
public record TrainingConfig(int epochs, double budgetSeconds, int batchSize, float learningRate, float weightDecay,
                             long seed, int workers, double checkpointEverySeconds, double dataRatio,
                             Augmentation.Params augmentation) {
    public TrainingConfig {
        if ((epochs > 0) == (budgetSeconds > 0)) {
            throw new UserException("give exactly one of --epochs N and --budget-seconds S (both positive)");
        }
        if (epochs < 0 || budgetSeconds < 0) {
            throw new UserException("--epochs and --budget-seconds must be positive");
        }
        if (batchSize < 2) {
            throw new UserException("--batch must be at least 2 (batch norm and contrastive losses need pairs), not " + batchSize);
        }
        if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
            throw new UserException("--lr must be a positive number, not " + learningRate);
        }
        if (!(weightDecay >= 0) || Float.isInfinite(weightDecay)) {
            throw new UserException("--weight-decay must be zero or positive, not " + weightDecay);
        }
        if (checkpointEverySeconds < 0) {
            throw new UserException("--checkpoint-every-seconds must be zero or positive");
        }
        if (!(dataRatio > 0 && dataRatio <= 1)) {
            throw new UserException("--data-ratio must be in (0, 1], not " + dataRatio);
        }
        if (workers < 1) {
            throw new UserException("--workers must be at least 1");
        }
    }
}
