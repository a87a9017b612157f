package ai.coopt.train;

import ai.coopt.data.MultiCrop;
import ai.coopt.nn.Network;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;

import java.util.Map;
import java.util.Set;

/**
 * A training method on the shared loop: heads + loss + views (in the spirit of lightly's
 * organisation). The loop owns data, augmentation, optimiser, schedule, checkpoints and metrics;
 * a method owns its heads (initialised in the backbone's manager), computes the loss of a batch of
 * two views, and does its bookkeeping after each optimiser step (momentum encoders, hand-off).
 */
public interface Method extends AutoCloseable {
    /** e.g. {@code rela}, {@code byol}, {@code simclr}, {@code rela>byol}. */
    String name();

    /** Whether batches must carry targets (from an optimized dataset). */
    boolean needsTargets();

    /** The backbone being trained: what the run's model directory keeps. */
    Network backbone();

    /**
     * Every parameter the optimiser updates, backbone included, by unique stable name (prefix
     * {@code backbone.} for the backbone's own, {@code head.NAME.} for each head's).
     */
    Map<String, Parameter> trainable();

    /**
     * The names (of {@link #trainable()}) of the parameters the current phase's loss depends on. The optimiser updates
     * only these: a head idle in this phase (the SSL heads during ReLA, the ReLA head after the hand-off) is neither
     * decayed nor moved by momentum left from earlier steps, as PyTorch leaves a parameter whose gradient is None.
     * Called every step: return a set kept for the run, not one built anew.
     */
    Set<String> active();

    /**
     * Everything else a checkpoint must hold to resume exactly, by unique name: momentum-encoder
     * copies, batch-norm running statistics of heads. Live arrays: the loop overwrites them in
     * place on resume.
     */
    Map<String, NDArray> state();

    /** Scalar state (hand-off averages, current phase index) for checkpoints. */
    Map<String, Double> scalars();

    /** Restores what {@link #scalars()} returned. */
    void restoreScalars(Map<String, Double> scalars);

    /** The loss of one batch, computed inside the loop's gradient collector; a scalar. */
    NDArray loss(TrainingBatch batch);

    /** The small views the loop must add to each batch (DINO, SwAV); none by default. */
    default MultiCrop multiCrop() {
        return MultiCrop.NONE;
    }

    /**
     * Whether the current phase's loss reads the small views (the loop copies them into the step's arrays only then):
     * whenever there are some, by default; ReLA before its hand-off does not.
     */
    default boolean usesSmallViews() {
        return multiCrop().any();
    }

    /**
     * Called between the backward pass and the optimiser step, with the gradients in place: a method may change them
     * (DINO clips each parameter's gradient norm). Nothing by default.
     *
     * @param step the number of the step being taken, counting from 1
     * @param fractionDone the share of the run done before this step
     */
    default void beforeStep(long step, double fractionDone) {
    }

    /**
     * The names (of {@link #trainable()}) whose learning rate stays at the base rate whatever the schedule (SimSiam's
     * predictor); none by default.
     */
    default Set<String> fixedLearningRate() {
        return Set.of();
    }

    /**
     * Called after every optimiser step with the loss just taken.
     *
     * @param step steps done so far (1 after the first)
     * @param fractionDone the share of the run done, 0..1 (steps or budget seconds)
     */
    void afterStep(long step, double fractionDone, float loss);

    /** The current phase for the metrics log, e.g. {@code rela} then {@code byol}. */
    String phase();

    @Override
    void close();
}
