package ai.coopt.train.methods;

/** The self-supervised methods with heads small enough for tests on tiny backbones and images. */
public final class SslMethodsFixtures {
    private SslMethodsFixtures() {}

    /** {@code name}'s spec with small heads (and a queue that wraps within a few steps, two small views). */
    public static MethodSpec small(String name) {
        MethodSpec spec = MethodSpec.of(name, null, null);
        return switch (name) {
            case "moco" -> spec.with(new MocoConfig(32, 0, 24, 0.99, 0.2));
            case "simsiam" -> spec.with(new SimSiamConfig(64, 16, true));
            case "dino" -> spec.with(new DinoConfig(64, 0, 32, 0.1, 0.07, 0.04, 0.3, 0.996, 0.9, 0.01, 3.0, 2));
            case "swav" -> spec.with(new SwavConfig(32, 0, 40, 0.1, 0.05, 3, 2, 2));
            case "dcl" -> spec.with(new DclConfig(32, 0, 0.1));
            default -> spec;
        };
    }
}
