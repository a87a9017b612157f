package ai.coopt.cli;

import ai.coopt.Setting;
import ai.coopt.UserException;

import java.util.EnumMap;
import java.util.Map;

/**
 * The command line's name of each {@link Setting}: the one table that turns core's messages ("learning rate must be a
 * positive number") into the line a user of {@code coopt} reads ("--lr must be a positive number").
 */
final class Flags {
    private static final Map<Setting, String> FLAG = new EnumMap<>(Setting.class);

    static {
        // the data
        FLAG.put(Setting.DATA, "--data");
        FLAG.put(Setting.LIMIT, "--limit");
        FLAG.put(Setting.LIMIT_SEED, "--limit-seed");
        FLAG.put(Setting.IMAGE_SIZE, "--image-size");
        FLAG.put(Setting.SKIP_BAD_IMAGES, "--skip-bad-images");
        FLAG.put(Setting.SHARD_IMAGES, "--shard-images");
        // the engine
        FLAG.put(Setting.DEVICE, "--device");
        FLAG.put(Setting.PRECISION, "--precision");
        // optimization and collaboration
        FLAG.put(Setting.PRIOR, "--prior");
        FLAG.put(Setting.PRIORS, "--priors");
        FLAG.put(Setting.DIM, "--dim");
        FLAG.put(Setting.ALIGN, "--align");
        FLAG.put(Setting.SHARED_FRACTION, "--shared-fraction");
        FLAG.put(Setting.SHARED_COUNT, "--shared-count");
        FLAG.put(Setting.PARTICIPANTS, "--participants");
        FLAG.put(Setting.CONCURRENCY, "--concurrency");
        // training
        FLAG.put(Setting.METHOD, "--method");
        FLAG.put(Setting.THEN, "--then");
        FLAG.put(Setting.SWITCH_AT, "--switch-at");
        FLAG.put(Setting.TARGETS, "--targets");
        FLAG.put(Setting.OUT, "--out");
        FLAG.put(Setting.RESUME, "--resume");
        FLAG.put(Setting.EPOCHS, "--epochs");
        FLAG.put(Setting.BUDGET_SECONDS, "--budget-seconds");
        FLAG.put(Setting.BATCH_SIZE, "--batch");
        FLAG.put(Setting.LEARNING_RATE, "--lr");
        FLAG.put(Setting.LR_SCHEDULE, "--lr-schedule");
        FLAG.put(Setting.WARMUP, "--warmup");
        FLAG.put(Setting.MIN_LEARNING_RATE, "--min-lr");
        FLAG.put(Setting.WEIGHT_DECAY, "--weight-decay");
        FLAG.put(Setting.WEIGHT_DECAY_END, "--weight-decay-end");
        FLAG.put(Setting.CHECKPOINT_EVERY_SECONDS, "--checkpoint-every-seconds");
        FLAG.put(Setting.DATA_RATIO, "--data-ratio");
        FLAG.put(Setting.WORKERS, "--workers");
        FLAG.put(Setting.LOCAL_CROPS, "--local-crops");
        // the self-supervised methods' own settings
        FLAG.put(Setting.PROJECTION_DIM, "--projection-dim");
        FLAG.put(Setting.HIDDEN_DIM, "--hidden-dim");
        FLAG.put(Setting.HIDDEN_MULTIPLIER, "--hidden-multiplier");
        FLAG.put(Setting.TEMPERATURE, "--temperature");
        FLAG.put(Setting.BYOL_MOMENTUM, "--byol-momentum");
        FLAG.put(Setting.MOCO_QUEUE, "--moco-queue");
        FLAG.put(Setting.MOCO_MOMENTUM, "--moco-momentum");
        FLAG.put(Setting.SIMSIAM_PREDICTOR_HIDDEN, "--simsiam-predictor-hidden");
        FLAG.put(Setting.DINO_OUT_DIM, "--dino-out-dim");
        FLAG.put(Setting.DINO_BOTTLENECK, "--dino-bottleneck");
        FLAG.put(Setting.DINO_STUDENT_TEMPERATURE, "--dino-student-temperature");
        FLAG.put(Setting.DINO_TEACHER_TEMPERATURE, "--dino-teacher-temperature");
        FLAG.put(Setting.DINO_WARMUP_TEACHER_TEMPERATURE, "--dino-warmup-teacher-temperature");
        FLAG.put(Setting.DINO_TEACHER_WARMUP, "--dino-teacher-warmup");
        FLAG.put(Setting.DINO_MOMENTUM, "--dino-momentum");
        FLAG.put(Setting.DINO_CENTER_MOMENTUM, "--dino-center-momentum");
        FLAG.put(Setting.DINO_FREEZE_LAST_LAYER, "--dino-freeze-last-layer");
        FLAG.put(Setting.DINO_CLIP_GRAD, "--dino-clip-grad");
        FLAG.put(Setting.SWAV_PROTOTYPES, "--swav-prototypes");
        FLAG.put(Setting.SWAV_EPSILON, "--swav-epsilon");
        FLAG.put(Setting.SWAV_SINKHORN_ITERATIONS, "--swav-sinkhorn-iterations");
        FLAG.put(Setting.SWAV_FREEZE_PROTOTYPES_STEPS, "--swav-freeze-prototypes-steps");
        // continuous rounds
        FLAG.put(Setting.ROUNDS, "--rounds");
        FLAG.put(Setting.KEEP, "--keep");
        FLAG.put(Setting.STUDENT_ARCH, "--student-arch");
        FLAG.put(Setting.STUDENT_EPOCHS, "--student-epochs");
        FLAG.put(Setting.STUDENT_BUDGET_SECONDS, "--student-budget-seconds");
        FLAG.put(Setting.PROBE_LIMIT, "--probe-limit");
        // benchmarks
        FLAG.put(Setting.INPUT_SIZE, "--size");
    }

    private Flags() {}

    /** The flag that sets {@code setting}; a setting missing from the table is named in words (FlagsTest guards it). */
    static String of(Setting setting) {
        String flag = FLAG.get(setting);
        return flag != null ? flag : setting.words();
    }

    /** The error's message as the command line says it: every setting by its flag. */
    static String message(UserException e) {
        return e.message(Flags::of);
    }
}
