package ai.coopt.train.methods;

import ai.coopt.data.MultiCrop;
import ai.coopt.engine.Engines;
import ai.coopt.nn.Network;
import ai.coopt.train.AdamW;
import ai.coopt.train.Method;
import ai.coopt.train.TrainingBatch;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;

import java.util.Random;

/**
 * A small backbone (convnet-s on 1×16×16) and one fixed synthetic batch of 8 images with two views
 * and 16-dimensional targets, plus a training step as the loop takes it: one sub-manager of the
 * backbone's manager per step, loss and backward inside a gradient collector, {@link Method#beforeStep}, AdamW, then
 * {@link Method#afterStep}.
 */
final class MethodFixture {
    static final int BATCH = 8;
    static final int SIZE = 16;
    static final int TARGET_DIM = 16;
    static final Shape IMAGES = new Shape(BATCH, 1, SIZE, SIZE);

    final float[] view1;
    final float[] view2;
    final float[] targets;

    MethodFixture(long seed) {
        Random r = new Random(seed);
        view1 = gaussian(r, BATCH * SIZE * SIZE);
        view2 = new float[view1.length];
        for (int i = 0; i < view1.length; i++) {
            view2[i] = view1[i] + 0.3f * (float) r.nextGaussian();
        }
        targets = gaussian(r, BATCH * TARGET_DIM);
    }

    static Network backbone(long seed) {
        return Network.create("convnet-s", 1, SIZE, SIZE, seed, Device.cpu());
    }

    /** The fixed batch, its arrays in {@code m}. */
    TrainingBatch batch(NDManager m) {
        return new TrainingBatch(new int[BATCH], m.create(view1, IMAGES), m.create(view2, IMAGES),
                m.create(targets, new Shape(BATCH, TARGET_DIM)), m);
    }

    /**
     * The fixed batch as step {@code step} of a run at {@code fractionDone} sees it, with the small views the method
     * asks for (Gaussian, drawn from a fixed seed).
     */
    TrainingBatch batch(NDManager m, Method method, long step, double fractionDone) {
        MultiCrop crop = method.multiCrop();
        NDArray locals = null;
        if (crop.any()) {
            Random r = new Random(99);
            Shape shape = new Shape((long) crop.count() * BATCH, 1, crop.size(), crop.size());
            locals = m.create(gaussian(r, (int) shape.size()), shape);
        }
        return new TrainingBatch(new int[BATCH], m.create(view1, IMAGES), m.create(view2, IMAGES),
                m.create(targets, new Shape(BATCH, TARGET_DIM)), m, locals, crop.count(), step, fractionDone);
    }

    /** The loss of the fixed batch without a step. */
    float loss(Method method) {
        try (NDManager m = method.backbone().manager().newSubManager()) {
            return method.loss(batch(m, method, 1, 0)).getFloat();
        }
    }

    /** One training step on the fixed batch; returns its loss. */
    float step(Method method, AdamW optimiser, long step, double fractionDone) {
        float value;
        try (NDManager m = method.backbone().manager().newSubManager()) {
            try (GradientCollector gc = Engines.get().newGradientCollector()) {
                NDArray loss = method.loss(batch(m, method, step, fractionDone));
                gc.backward(loss);
                value = loss.getFloat();
            }
            method.beforeStep(step, fractionDone);
            optimiser.step(method.active());
        }
        method.afterStep(step, fractionDone, value);
        return value;
    }

    /**
     * PyTorch adds each backward pass's gradients to the last ones: clears them after a backward pass that no
     * optimiser step followed ({@link AdamW#step} clears them itself, as the loop relies on).
     */
    static void zeroGradients(Method method) {
        for (Parameter p : method.trainable().values()) {
            try (NDArray g = p.getArray().getGradient()) {
                g.subi(g);
            }
        }
    }

    private static float[] gaussian(Random r, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) r.nextGaussian();
        }
        return out;
    }
}
