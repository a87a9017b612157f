package ai.coopt.engine;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Autograd off in the calling thread until closed (PyTorch's {@code torch.no_grad()}), then back to what it was.
 *
 * <p>PyTorch's grad mode is per thread and on by default. DJL turns it off only in the thread that loads the engine
 * (and a {@code GradientCollector} turns it on and back off), so a forward pass in any other thread (collaborative
 * participants, for one) recorded an autograd graph through the parameters, which require gradients, and kept it
 * until the outputs were closed. Inference goes through this guard so that no thread records one.
 */
public final class NoGrad implements AutoCloseable {
    private final boolean wasEnabled;

    private NoGrad() {
        Engines.get();
        wasEnabled = JniUtils.isGradMode();
        if (wasEnabled) {
            JniUtils.setGradMode(false);
        }
    }

    /** Turns autograd off in this thread; close it in the same thread. */
    public static NoGrad enter() {
        return new NoGrad();
    }

    @Override
    public void close() {
        if (wasEnabled) {
            JniUtils.setGradMode(true);
        }
    }
}
