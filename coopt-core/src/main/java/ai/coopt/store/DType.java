package ai.coopt.store;

/** The element types this project stores in safetensors files, named as the format names them. */
public enum DType {
    /** 32-bit IEEE float. */
    F32(4),
    /** 64-bit signed integer. */
    I64(8),
    /** 32-bit signed integer. */
    I32(4),
    /** 8-bit unsigned integer (pixels). */
    U8(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** The size of one element in bytes. */
    public int bytes() {
        return bytes;
    }
}
