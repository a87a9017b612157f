package ai.coopt.train.methods;

import ai.coopt.nn.Network;
import ai.coopt.train.Losses;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MoCo v2 (Chen, Fan, Girshick and He 2020): query encoder = backbone → MLP head (Linear-ReLU-Linear); key encoder =
 * a {@link MomentumEncoder} copy of both; a queue of the last {@code queue} keys (unit rows) serves as negatives. The
 * loss is InfoNCE, symmetrised as in solo-learn (each view's query against the other view's key, averaged), so both
 * views of a batch train the network as in the other methods here.
 *
 * <p>The keys of a step are enqueued between the backward pass and the optimiser step ({@link #beforeStep}): the
 * queue is read by the loss's graph, so it must not change before the backward pass has run. The queue and its write
 * position are checkpointed (state {@code queue}, scalar {@code queue_position}). Single process: no shuffled batch
 * norm (its purpose, hiding a batch's statistics across GPUs, does not arise on one device with the 2N batch).
 */
final class MocoMethod extends HeadedMethod {
    static final String QUEUE_POSITION = "queue_position";

    private final Head projector;
    private final MomentumEncoder keys;
    private final MocoConfig config;
    private final NDArray queue;
    private int position;
    /** This step's keys (2N × d, detached, in the step's manager) until they are enqueued. */
    private NDArray pending;

    private MocoMethod(Network backbone, NDManager manager, Head projector, MomentumEncoder keys, NDArray queue,
                       MocoConfig config) {
        super(backbone, manager, List.of(projector));
        this.projector = projector;
        this.keys = keys;
        this.queue = queue;
        this.config = config;
    }

    /** Draws the head, then the queue (normal rows scaled to unit norm, as MoCo's), from the engine's generator. */
    static MocoMethod create(Network backbone, MocoConfig config) {
        NDManager manager = backbone.manager().newSubManager();
        try {
            int features = backbone.featureDim();
            int hidden = SslConfig.orFeatures(config.hidden(), features);
            Head projector = Head.create("projector", Head.mlpNoNorm(hidden, config.projectionDim()), features, manager);
            MomentumEncoder keys = MomentumEncoder.create(backbone, projector,
                    Head.mlpNoNorm(hidden, config.projectionDim()), features, manager);
            NDArray queue;
            try (NDManager scratch = manager.newSubManager()) {
                NDArray drawn = scratch.randomNormal(new Shape(config.queue(), config.projectionDim()));
                queue = Losses.l2Normalize(drawn);
                queue.attach(manager);
            }
            return new MocoMethod(backbone, manager, projector, keys, queue, config);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return MethodSpec.MOCO;
    }

    @Override
    public NDArray loss(TrainingBatch batch) {
        // what the loss and the enqueue compute from the queue belongs to the step: the queue joins the step's manager
        // until it closes, then returns to the method's
        queue.tempAttach(batch.manager());
        NDArray views = Views.both(batch);
        // the keys first: their pass is freed before the queries' graph is built (see ByolMethod)
        pending = Losses.l2Normalize(keys.forward(views)).stopGradient();
        NDArray queries = projector.forward(backbone().forward(views, true), true);
        return Losses.infoNce(queries, Losses.swapHalves(pending), queue, (float) config.temperature());
    }

    /** Enqueues this step's keys (both views'), oldest first out, once the backward pass no longer needs the queue. */
    @Override
    public void beforeStep(long step, double fractionDone) {
        if (pending == null) {
            return;
        }
        int rows = (int) pending.getShape().get(0);
        int size = config.queue();
        // a queue shorter than the batch keeps the newest keys only
        for (int written = Math.max(0, rows - size); written < rows; ) {
            int n = Math.min(rows - written, size - position);
            try (NDArray part = pending.get(new NDIndex("{}:{}", written, written + n))) {
                queue.set(new NDIndex("{}:{}", position, position + n), part);
            }
            written += n;
            position = (position + n) % size;
        }
        pending = null;
    }

    /** The key encoder's momentum update. */
    @Override
    public void afterStep(long step, double fractionDone, float loss) {
        pending = null;
        keys.update((float) config.momentum());
    }

    @Override
    Map<String, NDArray> extraState() {
        Map<String, NDArray> out = new LinkedHashMap<>(keys.state());
        out.put("queue", queue);
        return out;
    }

    @Override
    public Map<String, Double> scalars() {
        return Map.of(QUEUE_POSITION, (double) position);
    }

    @Override
    public void restoreScalars(Map<String, Double> scalars) {
        Double p = scalars.get(QUEUE_POSITION);
        if (p == null) {
            throw new IllegalArgumentException("moco needs the scalar '" + QUEUE_POSITION + "' to resume");
        }
        position = (int) Math.round(p);
    }

    /** Keys of a batch of images (for tests): unit rows, detached. */
    NDArray keysOf(NDArray images) {
        return Losses.l2Normalize(keys.forward(images)).stopGradient();
    }
}
