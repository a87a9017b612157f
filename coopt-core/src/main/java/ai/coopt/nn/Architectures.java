package ai.coopt.nn;

import ai.coopt.UserException;

import java.util.List;

/** Backbones by name. Every backbone accepts 1- or 3-channel input; channels are fixed at initialisation. */
public final class Architectures {
    private static final List<String> NAMES = List.of("convnet-s", "resnet-s", "resnet18", "resnet50", "mobilenetv2");

    private Architectures() {}

    /** The architecture names {@link #create} accepts. */
    public static List<String> names() {
        return NAMES;
    }

    /** A fresh, uninitialised backbone; unknown names are a user error listing the known ones. */
    public static Backbone create(String name) {
        return switch (name) {
            case "convnet-s" -> ConvNetS.create();
            case "resnet-s" -> ResNet.resnetSmall();
            case "resnet18" -> ResNet.resnet18();
            case "resnet50" -> ResNet.resnet50();
            case "mobilenetv2" -> MobileNetV2.create();
            default -> throw new UserException("unknown architecture '" + name + "': choose one of " + String.join(", ", NAMES));
        };
    }
}
