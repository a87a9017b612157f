package ai.coopt.train.methods;

import ai.coopt.data.MultiCrop;
import ai.coopt.nn.Network;
import ai.coopt.train.Method;
import ai.coopt.train.TrainingBatch;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * ReLA, then a self-supervised method on the same backbone ({@code rela>byol}, {@code rela>simclr}).
 * It holds the transfer head and the SSL method's heads from the start, so the optimiser can be built
 * once over all of them; a head outside the current phase's loss takes no gradient. Training starts
 * with the ReLA loss and switches for good to the SSL loss when the {@link HandOff} says so. The SSL
 * method's bookkeeping runs after every step of both phases, so BYOL's momentum encoder keeps
 * following the backbone during the ReLA phase, as in ReLA's reference code.
 *
 * <p>Scalars: {@code fast} and {@code slow} (the hand-off averages) and {@code phase} (0 = ReLA,
 * 1 = SSL).
 */
final class RelaThenSsl implements Method {
    static final String FAST = "fast";
    static final String SLOW = "slow";
    static final String PHASE = "phase";

    private final RelaMethod rela;
    private final HeadedMethod ssl;
    private final HandOff handOff;
    private boolean handedOff;

    RelaThenSsl(RelaMethod rela, HeadedMethod ssl, HandOff handOff) {
        if (rela.backbone() != ssl.backbone()) {
            throw new IllegalArgumentException("ReLA and " + ssl.name() + " must train the same backbone");
        }
        this.rela = rela;
        this.ssl = ssl;
        this.handOff = handOff;
    }

    @Override
    public String name() {
        return rela.name() + ">" + ssl.name();
    }

    @Override
    public boolean needsTargets() {
        return true;
    }

    @Override
    public Network backbone() {
        return rela.backbone();
    }

    @Override
    public Map<String, Parameter> trainable() {
        Map<String, Parameter> out = rela.trainable();
        NamedParameters.merge(out, ssl.trainable());
        return out;
    }

    /** The ReLA phase trains the backbone and ReLA's head; the SSL phase the backbone and the SSL method's heads. */
    @Override
    public Set<String> active() {
        return handedOff ? ssl.active() : rela.active();
    }

    @Override
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>(rela.state());
        NamedParameters.merge(out, ssl.state());
        return out;
    }

    @Override
    public Map<String, Double> scalars() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put(FAST, handOff.fast());
        out.put(SLOW, handOff.slow());
        out.put(PHASE, handedOff ? 1.0 : 0.0);
        return out;
    }

    @Override
    public void restoreScalars(Map<String, Double> scalars) {
        for (String key : new String[] {FAST, SLOW, PHASE}) {
            if (scalars.get(key) == null) {
                throw new IllegalArgumentException(name() + " needs the scalar '" + key + "' to resume");
            }
        }
        handOff.restore(scalars.get(FAST), scalars.get(SLOW));
        handedOff = scalars.get(PHASE) >= 1;
    }

    @Override
    public NDArray loss(TrainingBatch batch) {
        return handedOff ? ssl.loss(batch) : rela.loss(batch);
    }

    /**
     * The SSL method's small views, from the start (the loader is built for the run; during the ReLA phase they are
     * prepared on the worker threads but neither copied to the engine nor used).
     */
    @Override
    public MultiCrop multiCrop() {
        return ssl.multiCrop();
    }

    /** Only once handed off: ReLA's loss reads the two full-size views. */
    @Override
    public boolean usesSmallViews() {
        return handedOff && ssl.usesSmallViews();
    }

    /** The SSL method's hook, in its phase only (DINO's gradient clipping must not touch the ReLA phase's steps). */
    @Override
    public void beforeStep(long step, double fractionDone) {
        if (handedOff) {
            ssl.beforeStep(step, fractionDone);
        }
    }

    @Override
    public Set<String> fixedLearningRate() {
        return ssl.fixedLearningRate();
    }

    @Override
    public void afterStep(long step, double fractionDone, float loss) {
        if (!handedOff && handOff.observe(fractionDone, loss)) {
            handedOff = true;
        }
        ssl.afterStep(step, fractionDone, loss);
    }

    @Override
    public String phase() {
        return handedOff ? ssl.name() : rela.name();
    }

    @Override
    public void close() {
        try {
            ssl.close();
        } finally {
            rela.close();
        }
    }
}
