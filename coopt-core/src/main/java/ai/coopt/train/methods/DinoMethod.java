package ai.coopt.train.methods;

import ai.coopt.data.MultiCrop;
import ai.coopt.engine.NoGrad;
import ai.coopt.nn.Network;
import ai.coopt.train.Losses;
import ai.coopt.train.Schedule;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * DINO (Caron et al. 2021), self-distillation with no labels: student = backbone → DINO head (MLP, bottleneck, unit
 * rows, weight-normalised last layer to K prototypes); teacher = a {@link MomentumEncoder} copy whose momentum rises
 * from {@code momentum} to 1 by a half cosine. The student sees every view (two full-size and the small multi-crop
 * views), the teacher the two full-size ones; the teacher's outputs are centred (a running mean, momentum
 * {@code centerMomentum}) and sharpened (temperature τ_t, warmed up linearly from {@code warmupTeacherTemperature}),
 * and the loss is the cross-entropy of each student view against each other teacher view ({@link Losses#dino}).
 *
 * <p>Between backward and the optimiser step ({@link #beforeStep}): each parameter's gradient norm is clipped to
 * {@code clipGrad}, the centre is updated from the step's teacher outputs, and during the first {@code freezeLastLayer}
 * of the run the last layer is left out of the update ({@link #active()}), as DINO cancels its gradients. The centre
 * is checkpointed (state {@code center}); the schedules depend only on the share of the run done.
 */
final class DinoMethod extends HeadedMethod {
    private final Head head;
    private final MomentumEncoder teacher;
    private final DinoConfig config;
    private final NDArray center;
    private final MultiCrop multiCrop;
    private final Schedule teacherTemperature;
    private final Schedule momentum;
    private final Set<String> withoutLastLayer;
    private final Map<String, Parameter> params;
    private boolean lastLayerFrozen;
    /** This step's teacher outputs (detached, in the step's manager) until the centre has taken them. */
    private List<NDArray> pendingTeacher;

    private DinoMethod(Network backbone, NDManager manager, Head head, MomentumEncoder teacher, NDArray center,
                       DinoConfig config) {
        super(backbone, manager, List.of(head));
        this.head = head;
        this.teacher = teacher;
        this.center = center;
        this.config = config;
        this.multiCrop = MultiCrops.forBackbone(config.localCrops(), backbone);
        this.teacherTemperature = Schedule.warmup(config.warmupTeacherTemperature(), config.teacherTemperature(),
                config.teacherWarmup());
        this.momentum = Schedule.cosine(config.momentum(), 1.0, 0);
        Set<Parameter> last = new HashSet<>();
        head.block().getChildren().values().stream().filter(b -> b instanceof NormalizedLinear)
                .forEach(b -> b.getParameters().values().forEach(last::add));
        Set<String> rest = new HashSet<>();
        trainable().forEach((name, p) -> {
            if (!last.contains(p)) {
                rest.add(name);
            }
        });
        this.withoutLastLayer = Set.copyOf(rest);
        this.params = trainable();
        this.lastLayerFrozen = config.freezeLastLayer() > 0;
    }

    /** Draws the head from the engine's generator; the teacher copies the student; the centre starts at 0. */
    static DinoMethod create(Network backbone, DinoConfig config) {
        NDManager manager = backbone.manager().newSubManager();
        try {
            int features = backbone.featureDim();
            int hidden = SslConfig.orFeatures(config.hidden(), features);
            Head head = Head.create("head", Head.dino(hidden, config.bottleneck(), config.outDim()), features, manager);
            MomentumEncoder teacher = MomentumEncoder.create(backbone, head,
                    Head.dino(hidden, config.bottleneck(), config.outDim()), features, manager);
            NDArray center = manager.zeros(new Shape(1, config.outDim()));
            return new DinoMethod(backbone, manager, head, teacher, center, config);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return MethodSpec.DINO;
    }

    @Override
    public MultiCrop multiCrop() {
        return multiCrop;
    }

    @Override
    public NDArray loss(TrainingBatch batch) {
        // what is computed from the centre belongs to the step: it joins the step's manager until that closes
        center.tempAttach(batch.manager());
        // the teacher first: its pass is freed before the student's graph is built (see ByolMethod)
        NDList t = teacher.forward(Views.both(batch)).split(2);
        List<NDArray> student = MultiCrops.perView(batch, x -> head.forward(backbone().forward(x, true), true));
        pendingTeacher = List.of(t.get(0), t.get(1));
        return Losses.dino(student, pendingTeacher, center, (float) config.studentTemperature(),
                (float) teacherTemperature.at(batch.fractionDone()));
    }

    /** τ_t at a share of the run (for tests and the log). */
    double teacherTemperatureAt(double fractionDone) {
        return teacherTemperature.at(fractionDone);
    }

    /** The teacher's momentum at a share of the run. */
    double momentumAt(double fractionDone) {
        return momentum.at(fractionDone);
    }

    @Override
    public void beforeStep(long step, double fractionDone) {
        lastLayerFrozen = fractionDone < config.freezeLastLayer();
        try (NoGrad ignored = NoGrad.enter()) {
            if (config.clipGrad() > 0) {
                for (Parameter p : params.values()) {
                    try (NDArray g = p.getArray().getGradient(); NDArray n = g.norm()) {
                        float norm = n.getFloat();
                        float coefficient = (float) (config.clipGrad() / (norm + 1e-6));
                        if (coefficient < 1) {
                            g.muli(coefficient);
                        }
                    }
                }
            }
            if (pendingTeacher != null) {
                try (NDArray updated = Losses.dinoCenter(center, pendingTeacher, (float) config.centerMomentum())) {
                    center.muli(0f).addi(updated);
                }
                pendingTeacher = null;
            }
        }
    }

    /** Without the last layer while it is frozen. */
    @Override
    public Set<String> active() {
        return lastLayerFrozen ? withoutLastLayer : super.active();
    }

    /** The teacher's momentum update, at the momentum the schedule gives. */
    @Override
    public void afterStep(long step, double fractionDone, float loss) {
        pendingTeacher = null;
        teacher.update((float) momentum.at(fractionDone));
    }

    @Override
    Map<String, NDArray> extraState() {
        Map<String, NDArray> out = new LinkedHashMap<>(teacher.state());
        out.put("center", center);
        return out;
    }
}
