package ai.coopt.prior;

import ai.coopt.UserException;
import ai.coopt.engine.Engines;
import ai.coopt.engine.NativeWork;
import ai.coopt.store.Checksums;
import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.onnxruntime.engine.OrtNDManager;
import ai.djl.onnxruntime.engine.OrtSymbolBlock;
import ai.djl.training.ParameterStore;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.nio.file.Path;
import java.util.Map;

/**
 * A prior read from an ONNX file ({@code onnx:FILE.onnx}), run on the CPU by DJL's OnnxRuntime
 * engine. The model must take one N×C×H×W float input with a dynamic batch axis; its first
 * output must be an [N, dim] float32 tensor.
 *
 * <p>The input size and normalisation come from the sidecar {@code FILE.onnx.json} (see
 * {@link PriorSidecar}). Without one, each of C, H and W is the model's declared size where it
 * is fixed, else 3, 224 and 224, with ImageNet normalisation. A sidecar size that contradicts a
 * fixed declared size is an error.
 */
public final class OnnxPrior implements Prior {
    private static final int DEFAULT_SIZE = 224;

    private final Path file;
    private final NDManager manager;
    private final OrtSymbolBlock block;
    private final InputSpec input;
    private final int outputDim;
    private final String sha256;

    private OnnxPrior(Path file, NDManager manager, OrtSymbolBlock block, InputSpec input) {
        this.file = file;
        this.manager = manager;
        this.block = block;
        this.input = input;
        this.outputDim = run(new float[2 * input.channels() * input.height() * input.width()], 2).length / 2;
        this.sha256 = Checksums.sha256(file);
    }

    /**
     * Loads {@code file} and checks it once with a batch of two zero images.
     *
     * @throws UserException when the file is missing or is not an ONNX model, the model does not
     *     take one N×C×H×W float input with a dynamic batch, its sidecar is invalid, or its first
     *     output is not a 2-D [batch, dim] float tensor
     */
    public static OnnxPrior open(Path file) {
        Path path = PriorFiles.requireModelFile(file);
        Engines.configure(0);
        OrtNDManager manager = (OrtNDManager) Engine.getEngine("OnnxRuntime").newBaseManager(Device.cpu());
        try {
            OrtSession session = OrtEnvironment.getEnvironment().createSession(path.toString());
            OrtSymbolBlock block = new OrtSymbolBlock(session, manager);
            return new OnnxPrior(path, manager, block, inputOf(path, session));
        } catch (OrtException | EngineException e) {
            manager.close();
            throw PriorFiles.failure(path, "cannot load as an ONNX model", e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** The input spec from the sidecar and the model's declared input. */
    private static InputSpec inputOf(Path path, OrtSession session) throws OrtException {
        Map<String, NodeInfo> inputs = session.getInputInfo();
        if (inputs.size() != 1) {
            throw new UserException(path + ": a prior takes one input, this ONNX model takes " + inputs.size()
                    + " " + inputs.keySet());
        }
        NodeInfo node = inputs.values().iterator().next();
        if (!(node.getInfo() instanceof TensorInfo tensor) || tensor.type != OnnxJavaType.FLOAT
                || tensor.getShape().length != 4) {
            throw new UserException(path + ": a prior takes an N×C×H×W float32 tensor, this ONNX model's input '"
                    + node.getName() + "' is " + node.getInfo());
        }
        long[] declared = tensor.getShape();
        if (declared[0] > 0) {
            throw new UserException(path + ": the model's batch size is fixed at " + declared[0]
                    + "; export it with a dynamic batch axis");
        }
        if (declared[1] > 0 && declared[1] != 1 && declared[1] != 3) {
            throw new UserException(path + ": the model takes " + declared[1] + " channels; a prior takes 1 or 3");
        }
        InputSpec spec = PriorSidecar.inputFor(path, orDefault(declared[1], 3), orDefault(declared[2], DEFAULT_SIZE),
                orDefault(declared[3], DEFAULT_SIZE));
        long[] chosen = {spec.channels(), spec.height(), spec.width()};
        for (int d = 1; d < 4; d++) {
            if (declared[d] > 0 && declared[d] != chosen[d - 1]) {
                throw new UserException(PriorSidecar.pathFor(path) + ": input " + spec.channels() + "x"
                        + spec.height() + "x" + spec.width() + " contradicts the model's declared input "
                        + declared[1] + "x" + declared[2] + "x" + declared[3] + " (-1: any size)");
            }
        }
        return spec;
    }

    private static int orDefault(long declared, int fallback) {
        return declared > 0 ? (int) declared : fallback;
    }

    /** {@code onnx:/abs/FILE.onnx}. */
    @Override
    public String spec() {
        return "onnx:" + file;
    }

    @Override
    public String kind() {
        return "onnx";
    }

    @Override
    public InputSpec input() {
        return input;
    }

    @Override
    public int outputDim() {
        return outputDim;
    }

    /** SHA-256 of the ONNX file. */
    @Override
    public String weightsSha256() {
        return sha256;
    }

    @Override
    public float[] embed(float[] images, int batch) {
        return run(images, batch);
    }

    private float[] run(float[] images, int batch) {
        Shape shape = PriorFiles.batchShape(input, images, batch);
        try (NativeWork section = NativeWork.enter(); NDManager scope = manager.newSubManager()) {
            NDList batchInput = new NDList(scope.create(images, shape));
            NDList outputs = block.forward(new ParameterStore(scope, false), batchInput, false);
            return PriorFiles.rows(file, outputs.get(0), batch);
        } catch (EngineException e) {
            throw PriorFiles.failure(file, "inference failed on a batch of shape " + shape, e);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
