package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.train.methods.ByolConfig;
import ai.coopt.train.methods.DclConfig;
import ai.coopt.train.methods.DinoConfig;
import ai.coopt.train.methods.MethodSpec;
import ai.coopt.train.methods.MocoConfig;
import ai.coopt.train.methods.SimClrConfig;
import ai.coopt.train.methods.SimSiamConfig;
import ai.coopt.train.methods.SslConfig;
import ai.coopt.train.methods.SwavConfig;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


/**
 * Every hyper-parameter of the self-supervised methods as a flag; a flag left out keeps the method's published
 * default (see each method's config record). A flag that the chosen method does not have is refused with one line,
 * so a typo in a benchmark script cannot silently train with the default.
 */
final class SslOptions {
    @Option(names = "--projection-dim", description = "Projection width (simclr, byol, moco, simsiam, swav, dcl).")
    Integer projectionDim;

    @Option(names = "--hidden-dim", description = "Hidden width of the heads; 0 = the backbone's feature width (simclr, moco, swav, dcl, dino).")
    Integer hiddenDim;

    @Option(names = "--hidden-multiplier", description = "BYOL's hidden width in multiples of the feature width (default 2).")
    Integer hiddenMultiplier;

    @Option(names = "--temperature", description = "Softmax temperature (simclr 0.5, moco 0.2, swav 0.1, dcl 0.1).")
    Double temperature;

    @Option(names = "--byol-momentum", description = "BYOL target momentum (default 0.99).")
    Double byolMomentum;

    @Option(names = "--moco-queue", description = "MoCo queue length in keys (default 65536).")
    Integer mocoQueue;

    @Option(names = "--moco-momentum", description = "MoCo key-encoder momentum (default 0.999).")
    Double mocoMomentum;

    @Option(names = "--simsiam-predictor-hidden", description = "SimSiam predictor bottleneck; 0 = a quarter of the projection.")
    Integer simsiamPredictorHidden;

    @Option(names = "--simsiam-scheduled-predictor-lr", description = "Let SimSiam's predictor follow the lr schedule (the paper keeps it fixed).")
    Boolean simsiamScheduledPredictorLr;

    @Option(names = "--dino-out-dim", description = "DINO prototypes (default 4096).")
    Integer dinoOutDim;

    @Option(names = "--dino-bottleneck", description = "DINO head bottleneck (default 256).")
    Integer dinoBottleneck;

    @Option(names = "--dino-student-temperature", description = "DINO student temperature (default 0.1).")
    Double dinoStudentTemperature;

    @Option(names = "--dino-teacher-temperature", description = "DINO teacher temperature after warm-up (default 0.07).")
    Double dinoTeacherTemperature;

    @Option(names = "--dino-warmup-teacher-temperature", description = "DINO teacher temperature at the start (default 0.04).")
    Double dinoWarmupTeacherTemperature;

    @Option(names = "--dino-teacher-warmup", description = "Share of the run the teacher temperature warms up over (default 0.3).")
    Double dinoTeacherWarmup;

    @Option(names = "--dino-momentum", description = "DINO teacher momentum at the start, cosine to 1 (default 0.996).")
    Double dinoMomentum;

    @Option(names = "--dino-center-momentum", description = "DINO centre momentum (default 0.9).")
    Double dinoCenterMomentum;

    @Option(names = "--dino-freeze-last-layer", description = "Share of the run the last layer stays frozen (default 0.01).")
    Double dinoFreezeLastLayer;

    @Option(names = "--dino-clip-grad", description = "Per-parameter gradient norm clip; 0 = none (default 3.0).")
    Double dinoClipGrad;

    @Option(names = "--swav-prototypes", description = "SwAV prototypes (default 3000).")
    Integer swavPrototypes;

    @Option(names = "--swav-epsilon", description = "SwAV Sinkhorn epsilon (default 0.05).")
    Double swavEpsilon;

    @Option(names = "--swav-sinkhorn-iterations", description = "SwAV Sinkhorn iterations (default 3).")
    Integer swavSinkhornIterations;

    @Option(names = "--swav-freeze-prototypes-steps", description = "Steps the SwAV prototypes stay frozen (default 313).")
    Integer swavFreezePrototypesSteps;

    @Option(names = "--local-crops", description = "Multi-crop small views per image (dino 8, swav 6; 0 = none).")
    Integer localCrops;

    /** Which flags each method has (by option name). */
    private static final Map<String, List<String>> FLAGS = Map.of(
            MethodSpec.SIMCLR, List.of("--projection-dim", "--hidden-dim", "--temperature"),
            MethodSpec.BYOL, List.of("--projection-dim", "--hidden-multiplier", "--byol-momentum"),
            MethodSpec.MOCO, List.of("--projection-dim", "--hidden-dim", "--temperature", "--moco-queue", "--moco-momentum"),
            MethodSpec.SIMSIAM, List.of("--projection-dim", "--simsiam-predictor-hidden", "--simsiam-scheduled-predictor-lr"),
            MethodSpec.DINO, List.of("--hidden-dim", "--dino-out-dim", "--dino-bottleneck", "--dino-student-temperature",
                    "--dino-teacher-temperature", "--dino-warmup-teacher-temperature", "--dino-teacher-warmup",
                    "--dino-momentum", "--dino-center-momentum", "--dino-freeze-last-layer", "--dino-clip-grad",
                    "--local-crops"),
            MethodSpec.SWAV, List.of("--projection-dim", "--hidden-dim", "--temperature", "--swav-prototypes",
                    "--swav-epsilon", "--swav-sinkhorn-iterations", "--swav-freeze-prototypes-steps", "--local-crops"),
            MethodSpec.DCL, List.of("--projection-dim", "--hidden-dim", "--temperature"));

    /** The flags given, by name. */
    private Map<String, Object> given() {
        Map<String, Object> g = new LinkedHashMap<>();
        put(g, "--projection-dim", projectionDim);
        put(g, "--hidden-dim", hiddenDim);
        put(g, "--hidden-multiplier", hiddenMultiplier);
        put(g, "--temperature", temperature);
        put(g, "--byol-momentum", byolMomentum);
        put(g, "--moco-queue", mocoQueue);
        put(g, "--moco-momentum", mocoMomentum);
        put(g, "--simsiam-predictor-hidden", simsiamPredictorHidden);
        put(g, "--simsiam-scheduled-predictor-lr", simsiamScheduledPredictorLr);
        put(g, "--dino-out-dim", dinoOutDim);
        put(g, "--dino-bottleneck", dinoBottleneck);
        put(g, "--dino-student-temperature", dinoStudentTemperature);
        put(g, "--dino-teacher-temperature", dinoTeacherTemperature);
        put(g, "--dino-warmup-teacher-temperature", dinoWarmupTeacherTemperature);
        put(g, "--dino-teacher-warmup", dinoTeacherWarmup);
        put(g, "--dino-momentum", dinoMomentum);
        put(g, "--dino-center-momentum", dinoCenterMomentum);
        put(g, "--dino-freeze-last-layer", dinoFreezeLastLayer);
        put(g, "--dino-clip-grad", dinoClipGrad);
        put(g, "--swav-prototypes", swavPrototypes);
        put(g, "--swav-epsilon", swavEpsilon);
        put(g, "--swav-sinkhorn-iterations", swavSinkhornIterations);
        put(g, "--swav-freeze-prototypes-steps", swavFreezePrototypesSteps);
        put(g, "--local-crops", localCrops);
        return g;
    }

    private static void put(Map<String, Object> g, String name, Object value) {
        if (value != null) {
            g.put(name, value);
        }
    }

    /** {@code spec} with the given flags applied to its self-supervised method's settings. */
    MethodSpec apply(MethodSpec spec) {
        Map<String, Object> g = given();
        SslConfig ssl = spec.ssl();
        if (ssl == null) {
            if (!g.isEmpty()) {
                throw new UserException(String.join(", ", g.keySet()) + ": only for a self-supervised method (or rela with --then)");
            }
            return spec;
        }
        List<String> foreign = new ArrayList<>();
        for (String flag : g.keySet()) {
            if (!FLAGS.get(ssl.method()).contains(flag)) {
                foreign.add(flag);
            }
        }
        if (!foreign.isEmpty()) {
            throw new UserException(String.join(", ", foreign) + (foreign.size() == 1 ? " is" : " are") + " not a setting of "
                    + ssl.method() + "; its settings: " + String.join(", ", FLAGS.get(ssl.method())));
        }
        return spec.with(override(ssl));
    }

    private SslConfig override(SslConfig ssl) {
        if (ssl instanceof SimClrConfig c) {
            return new SimClrConfig(or(projectionDim, c.projectionDim()), or(hiddenDim, c.hidden()),
                    or(temperature, c.temperature()));
        } else if (ssl instanceof ByolConfig c) {
            return new ByolConfig(or(projectionDim, c.projectionDim()), or(hiddenMultiplier, c.hiddenMultiplier()),
                    or(byolMomentum, c.momentum()));
        } else if (ssl instanceof MocoConfig c) {
            return new MocoConfig(or(projectionDim, c.projectionDim()), or(hiddenDim, c.hidden()),
                    or(mocoQueue, c.queue()), or(mocoMomentum, c.momentum()), or(temperature, c.temperature()));
        } else if (ssl instanceof SimSiamConfig c) {
            return new SimSiamConfig(or(projectionDim, c.projectionDim()),
                    or(simsiamPredictorHidden, c.predictorHidden()),
                    simsiamScheduledPredictorLr == null ? c.fixPredictorLr() : !simsiamScheduledPredictorLr);
        } else if (ssl instanceof DinoConfig c) {
            return new DinoConfig(or(dinoOutDim, c.outDim()), or(hiddenDim, c.hidden()), or(dinoBottleneck, c.bottleneck()),
                    or(dinoStudentTemperature, c.studentTemperature()), or(dinoTeacherTemperature, c.teacherTemperature()),
                    or(dinoWarmupTeacherTemperature, c.warmupTeacherTemperature()),
                    or(dinoTeacherWarmup, c.teacherWarmup()), or(dinoMomentum, c.momentum()),
                    or(dinoCenterMomentum, c.centerMomentum()), or(dinoFreezeLastLayer, c.freezeLastLayer()),
                    or(dinoClipGrad, c.clipGrad()), or(localCrops, c.localCrops()));
        } else if (ssl instanceof SwavConfig c) {
            return new SwavConfig(or(projectionDim, c.projectionDim()), or(hiddenDim, c.hidden()),
                    or(swavPrototypes, c.prototypes()), or(temperature, c.temperature()), or(swavEpsilon, c.epsilon()),
                    or(swavSinkhornIterations, c.sinkhornIterations()),
                    or(swavFreezePrototypesSteps, c.freezePrototypesSteps()), or(localCrops, c.localCrops()));
        } else if (ssl instanceof DclConfig c) {
            return new DclConfig(or(projectionDim, c.projectionDim()), or(hiddenDim, c.hidden()),
                    or(temperature, c.temperature()));
        }
        throw new IllegalArgumentException("no options for " + ssl);
    }

    private static <T> T or(T given, T otherwise) {
        return given != null ? given : otherwise;
    }
}
