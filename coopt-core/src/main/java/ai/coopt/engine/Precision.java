package ai.coopt.engine;

import ai.coopt.Setting;
import ai.coopt.UserException;
import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;

import java.util.Locale;

/**
 * The number format a network computes in. {@link #FP32} everywhere by default; {@link #BF16} computes convolutions,
 * matrix products and activations in bfloat16 ({@link BFloat16}) while what is kept and written stays float32.
 */
public enum Precision {
    FP32, BF16;

    /** The name commands and files use: {@code fp32} or {@code bf16}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Reads a recorded label; null (a file from before precision was recorded) is fp32. */
    public static Precision ofLabel(String label) {
        if (label == null) {
            return FP32;
        }
        return switch (label) {
            case "fp32" -> FP32;
            case "bf16" -> BF16;
            default -> throw new IllegalArgumentException("precision must be fp32 or bf16, not '" + label + "'");
        };
    }

    /**
     * What {@code asked} ({@code fp32}, {@code bf16} or {@code auto}) means on {@code device}: {@code auto} is bf16
     * where the hardware computes it natively (a CPU with AVX-512 BF16 or AMX, a GPU of compute capability 8.0 or
     * newer), else fp32; {@code bf16} where it does not is refused.
     */
    public static Precision choose(String asked, Device device) {
        String a = asked == null ? "fp32" : asked.strip().toLowerCase(Locale.ROOT);
        return switch (a) {
            case "fp32" -> FP32;
            case "auto" -> native16(device) ? BF16 : FP32;
            case "bf16" -> {
                if (!native16(device)) {
                    String what = device.isGpu() ? "this GPU does not compute bfloat16 natively (it needs compute "
                            + "capability 8.0 or newer)" : "this CPU does not compute bfloat16 natively (no avx512_bf16 "
                            + "or amx_bf16 flag)";
                    throw new UserException(names -> names.of(Setting.PRECISION) + " bf16: " + what + "; use fp32 or auto");
                }
                yield BF16;
            }
            default -> throw new UserException(names -> names.of(Setting.PRECISION) + " must be fp32, bf16 or auto, not '"
                    + asked + "'");
        };
    }

    private static boolean native16(Device device) {
        if (device.isGpu()) {
            try {
                String cc = CudaUtils.getComputeCapability(device.getDeviceId());
                return Integer.parseInt(cc.replaceAll("[^0-9]", "")) >= 80;
            } catch (RuntimeException | UnsatisfiedLinkError e) {
                return false;
            }
        }
        return CpuFlags.bf16();
    }
}
