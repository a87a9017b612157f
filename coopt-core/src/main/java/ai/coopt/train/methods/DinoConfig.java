package ai.coopt.train.methods;

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
        SslConfig.width("--dino-out-dim", outDim, false);
        SslConfig.width("--hidden-dim", hidden, true);
        SslConfig.width("--dino-bottleneck", bottleneck, false);
        SslConfig.positive("--dino-student-temperature", studentTemperature);
        SslConfig.positive("--dino-teacher-temperature", teacherTemperature);
        SslConfig.positive("--dino-warmup-teacher-temperature", warmupTeacherTemperature);
        share("--dino-teacher-warmup", teacherWarmup);
        SslConfig.momentum("--dino-momentum", momentum);
        SslConfig.momentum("--dino-center-momentum", centerMomentum);
        share("--dino-freeze-last-layer", freezeLastLayer);
        if (!(clipGrad >= 0) || Double.isInfinite(clipGrad)) {
            throw new ai.coopt.UserException("--dino-clip-grad must be 0 (none) or positive, not " + clipGrad);
        }
        SslConfig.localCrops(localCrops);
    }

    static void share(String what, double value) {
        if (!(value >= 0 && value < 1)) {
            throw new ai.coopt.UserException(what + " is a share of the run in [0, 1), not " + value);
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
