package ai.coopt.engine;

import ai.coopt.nn.Network;
import ai.coopt.store.ModelDirectory;
import ai.coopt.train.Method;
import ai.coopt.train.methods.MethodSpec;
import ai.coopt.train.methods.Methods;
import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * PyTorch's autograd mode is per thread and on by default; DJL turns it off only in the thread that loads the engine. A
 * network, its method's heads and a saved model must build in any thread whatever its mode: with it on, the
 * channels-last copy of a weight was a non-leaf tensor and setting its gradient flag failed ("you can only change
 * requires_grad flags of leaf variables"), which a command met when another thread had loaded the engine first.
 */
class GradModeTest {
    @Test
    void networksMethodsAndModelsBuildInAThreadWhereAutogradIsOn(@TempDir Path tmp) throws Exception {
        Engines.get();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                JniUtils.setGradMode(true);
                try (Network net = Network.create("resnet-s", 1, 28, 28, 1, Device.cpu());
                     Method m = Methods.create(MethodSpec.of("byol", null, null), net, 0)) {
                    ModelDirectory.write(tmp.resolve("m"), net, new float[] {0.5f}, new float[] {0.25f}, "byol",
                            ai.coopt.store.Json.mapper().createObjectNode());
                }
                ModelDirectory.read(tmp.resolve("m")).open(Device.cpu()).close();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "grad-mode-on");
        t.start();
        t.join();
        assertNull(failure.get(), () -> "building in a thread with autograd on failed: " + failure.get());
    }
}
