package ai.coopt.train.methods;

import static ai.coopt.Setting.DINO_BOTTLENECK;
import static ai.coopt.Setting.DINO_CENTER_MOMENTUM;
import static ai.coopt.Setting.DINO_CLIP_GRAD;
import static ai.coopt.Setting.DINO_FREEZE_LAST_LAYER;
import static ai.coopt.Setting.DINO_MOMENTUM;
import static ai.coopt.Setting.DINO_OUT_DIM;
import static ai.coopt.Setting.DINO_STUDENT_TEMPERATURE;
import static ai.coopt.Setting.DINO_TEACHER_TEMPERATURE;
import static ai.coopt.Setting.DINO_TEACHER_WARMUP;
import static ai.coopt.Setting.DINO_WARMUP_TEACHER_TEMPERATURE;
import static ai.coopt.Setting.HIDDEN_DIM;

/**
 * DINO (Caron et al. 2021): a teacher that follows the student by momentum, its outputs centred and sharpened; the
 * student sees every view (two full-size, {@code localCrops} small), the teacher only the full-size ones.
 *
 * @param outDim the head's output (prototypes): 4096, solo-learn's small-image setting (the paper's ImageNet runs use
 *     65536, too many for 28-pixel images and a CPU)
 * @param hidden the head's hidden width; 0 = the backbone's feature width (2048 on ResNet-50, as published)
 * @param bottleneck the head's bottleneck before the weight-normalised last layer (256)
 * @param studentTemperature τ_s (0.1)
 * @param teacherTemperature τ_t after its warm-up (0.07)
 * @param warmupTeacherTemperature τ_t at the start (0.04)
 * @param teacherWarmup the share of the run τ_t takes to rise linearly (0.3: the paper's 30 of 100 epochs)
 * @param momentum the teacher's momentum at the start, annealed to 1 by a half cosine (0.996)
 * @param centerMomentum the centre's momentum (0.9)
 * @param freezeLastLayer the share of the run during which the last layer is not updated (0.01: 1 of 100 epochs)
 * @param clipGrad each parameter's gradient norm is clipped to this (3.0); 0 = no clipping
 * @param localCrops small views per image (8, as DINO's code); their side is 96/224 of the image's
 */
public record DinoConfig(int outDim, int hidden, int bottleneck, double studentTemperature, double teacherTemperature,
                         double warmupTeacherTemperature, double teacherWarmup, double momentum, double centerMomentum,
                         double freezeLastLayer, double clipGrad, int localCrops) implements SslConfig {
    public DinoConfig {
        SslConfig.width(DINO_OUT_DIM, outDim, false);
        SslConfig.width(HIDDEN_DIM, hidden, true);
        SslConfig.width(DINO_BOTTLENECK, bottleneck, false);
        SslConfig.positive(DINO_STUDENT_TEMPERATURE, studentTemperature);
        SslConfig.positive(DINO_TEACHER_TEMPERATURE, teacherTemperature);
        SslConfig.positive(DINO_WARMUP_TEACHER_TEMPERATURE, warmupTeacherTemperature);
        share(DINO_TEACHER_WARMUP, teacherWarmup);
        SslConfig.momentum(DINO_MOMENTUM, momentum);
        SslConfig.momentum(DINO_CENTER_MOMENTUM, centerMomentum);
        share(DINO_FREEZE_LAST_LAYER, freezeLastLayer);
        if (!(clipGrad >= 0) || Double.isInfinite(clipGrad)) {
            throw new ai.coopt.UserException(names -> names.of(DINO_CLIP_GRAD) + " must be 0 (none) or positive, not "
                    + clipGrad);
        }
        SslConfig.localCrops(localCrops);
    }

    static void share(ai.coopt.Setting what, double value) {
        if (!(value >= 0 && value < 1)) {
            throw new ai.coopt.UserException(names -> names.of(what) + " is a share of the run in [0, 1), not "
                    + value);
        }
    }

    public static DinoConfig defaults() {
        return new DinoConfig(4096, 0, 256, 0.1, 0.07, 0.04, 0.3, 0.996, 0.9, 0.01, 3.0, 8);
    }

    @Override
    public String method() {
        return MethodSpec.DINO;
    }
}
