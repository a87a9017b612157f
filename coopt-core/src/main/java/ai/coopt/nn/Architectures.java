package ai.coopt.nn;

import ai.coopt.UserException;
import ai.coopt.engine.Engines;
import ai.coopt.engine.MemoryBudget;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Backbones by name. Every backbone accepts 1- or 3-channel input; channels are fixed at initialisation. */
public final class Architectures {
    private static final List<String> NAMES = List.of("convnet-s", "resnet-s", "resnet18", "resnet50", "resnet101",
            "mobilenetv2", "efficientnet-b0", "vit-tiny");

    /** The largest input height or width any architecture is built for; larger declared inputs are refused unread. */
    public static final int MAX_SIDE = 8192;

    /** Inputs up to this side are measured directly; larger ones are extrapolated from it (see {@link #activationBytes}). */
    static final int REFERENCE_SIDE = 64;

    private static final Map<String, Integer> MIN_SIDE = new ConcurrentHashMap<>();
    /** Layer-output elements by "arch HxW", measured once: every network built goes through {@link #checkInput}. */
    private static final Map<String, ActivationCount.Elements> ELEMENTS = new ConcurrentHashMap<>();

    private Architectures() {}

    /**
     * The smallest height and width {@code arch} takes: below it a stride or pooling leaves no pixel. Found once per
     * architecture by inferring the output shapes of its layers for growing square inputs (no weights needed).
     */
    public static int minSide(String arch) {
        return MIN_SIDE.computeIfAbsent(arch, a -> {
            for (int side = 1; side <= REFERENCE_SIDE; side++) {
                if (cachedElements(a, side, side).total() > 0) {
                    return side;
                }
            }
            throw new IllegalStateException(a + " takes no input of up to " + REFERENCE_SIDE + " pixels");
        });
    }

    /**
     * An estimate of the bytes one image of {@code channels × height × width} makes {@code arch} hold in one forward
     * pass: the float32 output of every layer (DJL keeps each until the batch's manager closes, and training keeps
     * them for the backward pass), or, for a block that counts its own ({@link ActivationCount}: self-attention),
     * everything its pass holds. Beyond {@value #REFERENCE_SIDE} pixels the count is extrapolated from a
     * {@value #REFERENCE_SIDE}-pixel square, which keeps the estimate free of any allocation: convolutional maps and
     * token sequences grow with the area, attention maps (tokens × tokens) with its square.
     */
    public static long activationBytes(String arch, int channels, int height, int width) {
        long elements;
        if (height <= REFERENCE_SIDE && width <= REFERENCE_SIDE) {
            elements = cachedElements(arch, height, width).total();
        } else {
            ActivationCount.Elements reference = cachedElements(arch, REFERENCE_SIDE, REFERENCE_SIDE);
            double ratio = ((double) height * width) / ((double) REFERENCE_SIDE * REFERENCE_SIDE);
            elements = (long) Math.ceil(reference.area() * ratio + reference.areaSquared() * ratio * ratio);
        }
        return 4L * (elements + (long) channels * height * width);
    }

    /**
     * Refuses, with one line, an input {@code arch} cannot take: smaller than {@link #minSide}, larger than
     * {@link #MAX_SIDE}, or so large that one image's activations exceed the {@link MemoryBudget}.
     */
    public static void checkInput(String arch, int channels, int height, int width) {
        String size = channels + "x" + height + "x" + width;
        if (height > MAX_SIDE || width > MAX_SIDE) {
            throw new UserException(arch + " cannot take " + size + " inputs: at most " + MAX_SIDE + " pixels a side");
        }
        int min = minSide(arch);
        if (height < min || width < min) {
            throw new UserException(arch + " needs inputs of at least " + min + "x" + min + " pixels, not " + height + "x"
                    + width + "; use larger images");
        }
        MemoryBudget.require(activationBytes(arch, channels, height, width), "one " + size + " input",
                "use smaller images for " + arch);
    }

    private static ActivationCount.Elements cachedElements(String arch, int height, int width) {
        return ELEMENTS.computeIfAbsent(arch + " " + height + "x" + width, key -> elements(arch, height, width));
    }

    /** Elements of every layer's output for one 1-channel image, or none when the input is too small for a layer. */
    private static ActivationCount.Elements elements(String arch, int height, int width) {
        Engines.get();
        Block block = create(arch).block();
        try {
            Shape[] out = new Shape[1];
            return elements(block, new Shape(1, 1, height, width), out);
        } catch (RuntimeException tooSmall) {
            // a pooling on an empty map fails in the engine ("Output size is too small")
            return ActivationCount.Elements.NONE;
        }
    }

    private static ActivationCount.Elements elements(Block block, Shape in, Shape[] out) {
        if (block instanceof SequentialBlock) {
            Shape shape = in;
            ActivationCount.Elements total = ActivationCount.Elements.NONE;
            for (Block child : block.getChildren().values()) {
                total = total.plus(elements(child, shape, out));
                shape = out[0];
            }
            out[0] = shape;
            return total;
        }
        if (block instanceof ParallelBlock) {
            ActivationCount.Elements total = ActivationCount.Elements.NONE;
            for (Block child : block.getChildren().values()) {
                total = total.plus(elements(child, in, out));
            }
            out[0] = block.getOutputShapes(new Shape[] {in})[0];
            return total.plus(ActivationCount.Elements.ofArea(checked(out[0])));
        }
        out[0] = block.getOutputShapes(new Shape[] {in})[0];
        long output = checked(out[0]);
        return block instanceof ActivationCount counted ? counted.activationElements(in)
                : ActivationCount.Elements.ofArea(output);
    }

    private static long checked(Shape shape) {
        for (long d : shape.getShape()) {
            if (d <= 0) {
                throw new IllegalArgumentException("empty output " + shape);
            }
        }
        return shape.size();
    }

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
            case "resnet101" -> ResNet.resnet101();
            case "mobilenetv2" -> MobileNetV2.create();
            case "efficientnet-b0" -> EfficientNet.b0();
            case "vit-tiny" -> VisionTransformer.tiny();
            default -> throw new UserException("unknown architecture '" + name + "': choose one of " + String.join(", ", NAMES));
        };
    }
}
