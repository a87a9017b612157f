package ai.coopt.engine;

import ai.coopt.bench.Throughput;
import ai.djl.Device;

/** Run by {@link OneDnnTest} in a fresh JVM: loads the engine, reports the oneDNN switch, trains and infers. */
public final class OneDnnChild {
    private OneDnnChild() {}

    public static void main(String[] args) {
        Engines.configure(1);
        // the switch as the engine came up, before this process ran anything
        boolean before = OneDnn.enabled();
        for (String arch : new String[] {"resnet50", "mobilenetv2", "resnet18"}) {
            Throughput.measure(arch, 2, 3, 32, 0, 1, true, null, Device.cpu());
            System.out.println(arch + " trained");
        }
        System.out.println("onednn=" + OneDnn.enabled() + " before=" + before + " nnpack=" + OneDnn.nnpackEnabled());
    }
}
