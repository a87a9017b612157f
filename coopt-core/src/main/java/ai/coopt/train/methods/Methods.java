package ai.coopt.train.methods;

import ai.coopt.UserException;
import ai.coopt.nn.Network;
import ai.coopt.train.Method;

import static ai.coopt.Setting.METHOD;

/** Builds the training method a {@link MethodSpec} names, on a given backbone. */
public final class Methods {
    private Methods() {}

    /**
     * The method for {@code spec}, its heads initialised in a sub-manager of the backbone's manager
     * with weights drawn from the engine's generator (transfer head first, then projector, then
     * predictor), so the same seed and call order give the same heads. Closing the method frees its
     * heads; the caller keeps owning the backbone.
     *
     * @param targetDim the width of the targets for {@code rela}; ignored by the other methods
     */
    public static Method create(MethodSpec spec, Network backbone, int targetDim) {
        // heads drawn and teachers copied with autograd off, whatever this thread's grad mode (see Network.create)
        try (ai.coopt.engine.NoGrad ignored = ai.coopt.engine.NoGrad.enter()) {
            return build(spec, backbone, targetDim);
        }
    }

    private static Method build(MethodSpec spec, Network backbone, int targetDim) {
        if (!spec.usesTargets()) {
            return ssl(spec.ssl(), backbone);
        }
        if (targetDim <= 0) {
            throw new UserException(names -> names.of(METHOD) + " rela needs targets with at least one dimension, not "
                    + targetDim);
        }
        RelaMethod rela = RelaMethod.create(backbone, targetDim);
        if (spec.ssl() == null) {
            return rela;
        }
        try {
            return new RelaThenSsl(rela, ssl(spec.ssl(), backbone), new HandOff(spec.switchAt()));
        } catch (RuntimeException e) {
            rela.close();
            throw e;
        }
    }

    private static HeadedMethod ssl(SslConfig config, Network backbone) {
        if (config instanceof ByolConfig c) {
            return ByolMethod.create(backbone, c);
        } else if (config instanceof SimClrConfig c) {
            return SimClrMethod.create(backbone, c);
        } else if (config instanceof MocoConfig c) {
            return MocoMethod.create(backbone, c);
        } else if (config instanceof SimSiamConfig c) {
            return SimSiamMethod.create(backbone, c);
        } else if (config instanceof DinoConfig c) {
            return DinoMethod.create(backbone, c);
        } else if (config instanceof SwavConfig c) {
            return SwavMethod.create(backbone, c);
        } else if (config instanceof DclConfig c) {
            return SimClrMethod.create(backbone, c);
        }
        throw new IllegalArgumentException("no method for " + config);
    }
}
