package ai.coopt.cli;

import ai.coopt.engine.Precision;
import ai.djl.Device;
import picocli.CommandLine.Option;

/** {@code --precision} for the commands that run a network. */
final class PrecisionOption {
    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|bf16|auto",
            description = "What networks compute in: fp32 (default), bf16 (bfloat16 arithmetic, float32 results; refused on "
                    + "hardware without native bfloat16) or auto (bf16 where the CPU has avx512_bf16 or amx_bf16, or the "
                    + "GPU is of compute capability 8.0+, else fp32). TorchScript and ONNX priors always run in fp32.")
    String precision;

    /** The precision on {@code device} (after the engine is configured). */
    Precision choose(Device device) {
        return Precision.choose(precision, device);
    }
}
