package ai.coopt.prior;

import ai.coopt.engine.NativeWork;
import ai.coopt.engine.Staging;

import ai.coopt.UserException;
import ai.coopt.engine.Engines;
import ai.coopt.store.Checksums;
import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A prior read from a TorchScript archive ({@code torchscript:FILE.pt[#METHOD]}), run by DJL's
 * PyTorch engine in inference mode without autograd. It calls the module's {@code forward}, or
 * the named method ({@code #encode_image} for CLIP's TorchScript archives), with one
 * N×C×H×W float tensor; the result must be one [N, dim] float32 tensor.
 *
 * <p>The input size and normalisation come from the sidecar {@code FILE.pt.json} (see
 * {@link PriorSidecar}); without one, 3×224×224 with ImageNet normalisation.
 */
public final class TorchScriptPrior implements Prior {
    private static final String FORWARD = "forward";
    private static final int DEFAULT_SIZE = 224;

    private final Path file;
    private final String method;
    private final Model model;
    private final PtSymbolBlock block;
    private final InputSpec input;
    private final int outputDim;
    private final String sha256;
    private final Staging staging = new Staging();

    private TorchScriptPrior(Path file, String method, Model model, InputSpec input) {
        this.file = file;
        this.method = method;
        this.model = model;
        this.block = (PtSymbolBlock) model.getBlock();
        this.input = input;
        this.outputDim = run(new float[2 * input.channels() * input.height() * input.width()], 2).length / 2;
        this.sha256 = Checksums.sha256(file);
    }

    /**
     * Loads {@code file} on {@code device} and checks it once with a batch of two zero images.
     *
     * @param method the method to call, or null for {@code forward}
     * @throws UserException when the file is missing, is not a TorchScript archive, has no such
     *     method, its sidecar is invalid, or its output is not a 2-D [batch, dim] float tensor
     */
    public static TorchScriptPrior open(Path file, String method, Device device) {
        Path path = PriorFiles.requireModelFile(file);
        String name = method == null ? FORWARD : method;
        if (name.isBlank()) {
            throw new UserException("torchscript:" + path + "#: the method name after '#' is empty");
        }
        InputSpec input = PriorSidecar.inputFor(path, 3, DEFAULT_SIZE, DEFAULT_SIZE);
        Engines.get(); // loads the engine and applies the oneDNN decision before the module's first convolution
        Model model = Model.newInstance(path.getFileName().toString(), device, "PyTorch");
        try {
            model.load(path);
            PtSymbolBlock block = (PtSymbolBlock) model.getBlock();
            JniUtils.enableInferenceMode(block);
            List<String> methods = Arrays.asList(JniUtils.getMethodNames(block));
            if (!methods.contains(name)) {
                throw new UserException(path + ": the TorchScript module has no method '" + name + "' (it has "
                        + String.join(", ", methods.stream().sorted().toList()) + ")");
            }
            return new TorchScriptPrior(path, name, model, input);
        } catch (IOException | MalformedModelException | EngineException e) {
            model.close();
            throw PriorFiles.failure(path, "cannot load as a TorchScript archive", e);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** {@code torchscript:/abs/FILE.pt}, with {@code #METHOD} when it is not {@code forward}. */
    @Override
    public String spec() {
        return "torchscript:" + file + (method.equals(FORWARD) ? "" : "#" + method);
    }

    @Override
    public String kind() {
        return "torchscript";
    }

    @Override
    public InputSpec input() {
        return input;
    }

    @Override
    public int outputDim() {
        return outputDim;
    }

    /** SHA-256 of the TorchScript archive. */
    @Override
    public String weightsSha256() {
        return sha256;
    }

    @Override
    public synchronized float[] embed(float[] images, int batch) {
        return run(images, batch);
    }

    private float[] run(float[] images, int batch) {
        Shape shape = PriorFiles.batchShape(input, images, batch);
        try (NativeWork section = NativeWork.enter();
                PtNDManager scope = (PtNDManager) model.getNDManager().newSubManager()) {
            PtNDArray x = (PtNDArray) staging.create(scope, images, 0, shape);
            try (IValue argument = IValue.from(x);
                    IValue result = IValueUtils.runMethod(block, method, argument)) {
                if (!result.isTensor()) {
                    throw new UserException(file + ": prior output must be a 2-D [batch, dim] float tensor, but "
                            + method + " returned " + result.getType());
                }
                return PriorFiles.rows(file, result.toTensor(scope), batch);
            }
        } catch (EngineException e) {
            throw PriorFiles.failure(file, method + " failed on a batch of shape " + shape, e);
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
