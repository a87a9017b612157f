package ai.coopt;

import java.util.Locale;

/**
 * A setting a user chooses, as the library's messages refer to it. Core never spells a setting the way one front end
 * takes it (the command line's {@code --lr}): a message says which setting it is about ({@link UserException.Text}),
 * and whoever shows the message names it ({@link Names}) — the library in words ({@link #WORDS}: "learning rate"), the
 * command line by its flag (coopt-cli's table).
 */
public enum Setting {
    // the data
    DATA, LIMIT, LIMIT_SEED("limit seed"), IMAGE_SIZE, SKIP_BAD_IMAGES("skip bad images"),
    SHARD_IMAGES("images per shard"),
    // the engine
    DEVICE, PRECISION,
    // optimization and collaboration
    PRIOR, PRIORS, DIM("target width"), ALIGN("alignment"), SHARED_FRACTION, SHARED_COUNT, PARTICIPANTS, CONCURRENCY,
    // training
    METHOD, THEN("method after ReLA"), SWITCH_AT, TARGETS, OUT("output directory"), RESUME, EPOCHS, BUDGET_SECONDS,
    BATCH_SIZE, LEARNING_RATE, LR_SCHEDULE("learning-rate schedule"), WARMUP("warm-up"), MIN_LEARNING_RATE,
    WEIGHT_DECAY, WEIGHT_DECAY_END, CHECKPOINT_EVERY_SECONDS, DATA_RATIO, WORKERS, LOCAL_CROPS,
    // the self-supervised methods' own settings
    PROJECTION_DIM, HIDDEN_DIM, HIDDEN_MULTIPLIER, TEMPERATURE, BYOL_MOMENTUM, MOCO_QUEUE, MOCO_MOMENTUM,
    SIMSIAM_PREDICTOR_HIDDEN, DINO_OUT_DIM, DINO_BOTTLENECK, DINO_STUDENT_TEMPERATURE, DINO_TEACHER_TEMPERATURE,
    DINO_WARMUP_TEACHER_TEMPERATURE, DINO_TEACHER_WARMUP, DINO_MOMENTUM, DINO_CENTER_MOMENTUM, DINO_FREEZE_LAST_LAYER,
    DINO_CLIP_GRAD, SWAV_PROTOTYPES, SWAV_EPSILON, SWAV_SINKHORN_ITERATIONS, SWAV_FREEZE_PROTOTYPES_STEPS,
    // continuous rounds
    ROUNDS, KEEP, STUDENT_ARCH, STUDENT_EPOCHS, STUDENT_BUDGET_SECONDS, PROBE_LIMIT,
    // benchmarks
    INPUT_SIZE;

    private final String words;

    Setting() {
        this.words = name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }

    Setting(String words) {
        this.words = words;
    }

    /** How a message names a setting. */
    @FunctionalInterface
    public interface Names {
        String of(Setting setting);
    }

    /** The library's names: the setting in words, as {@link #words()}. */
    public static final Names WORDS = Setting::words;

    /** The setting in words, for messages read without a command line: {@code LEARNING_RATE} is "learning rate". */
    public String words() {
        return words;
    }
}
