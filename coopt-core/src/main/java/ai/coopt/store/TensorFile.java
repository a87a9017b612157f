package ai.coopt.store;

import ai.coopt.UserException;

import java.nio.file.Path;
import java.util.Map;

/**
 * The contents of a safetensors file.
 *
 * @param file where it was read from, for messages
 * @param tensors the tensors by name, in the order of their data in the file
 * @param metadata the {@code __metadata__} entries, empty when the file has none
 */
public record TensorFile(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
    /** @throws UserException when the file has no such tensor or it is not float32 */
    public Tensor.F32 f32(String name) {
        return typed(name, Tensor.F32.class, DType.F32);
    }

    /** @throws UserException when the file has no such tensor or it is not int64 */
    public Tensor.I64 i64(String name) {
        return typed(name, Tensor.I64.class, DType.I64);
    }

    /** @throws UserException when the file has no such tensor or it is not int32 */
    public Tensor.I32 i32(String name) {
        return typed(name, Tensor.I32.class, DType.I32);
    }

    private <T extends Tensor> T typed(String name, Class<T> type, DType dtype) {
        Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw new UserException(file + ": no tensor named '" + name + "'");
        }
        if (!type.isInstance(tensor)) {
            throw new UserException(file + ": tensor '" + name + "' is " + tensor.dtype() + ", expected " + dtype);
        }
        return type.cast(tensor);
    }
}
