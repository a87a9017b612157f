package ai.coopt.prior;

import ai.coopt.UserException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.file.Files;
import java.nio.file.Path;

/** What the priors loaded from public model files share: checking the file, errors, checking the output. */
final class PriorFiles {
    private PriorFiles() {}

    /**
     * The model file as an absolute, normalised path.
     *
     * @throws UserException when it does not exist, is not a regular file or cannot be read
     */
    static Path requireModelFile(Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        if (!Files.exists(absolute)) {
            throw new UserException(absolute + ": no such file");
        }
        if (!Files.isRegularFile(absolute)) {
            throw new UserException(absolute + ": not a model file (it is a directory or a special file)");
        }
        if (!Files.isReadable(absolute)) {
            throw new UserException(absolute + ": cannot read: permission denied");
        }
        return absolute;
    }

    /** A one-line user error: {@code FILE: what: the engine's reason}. */
    static UserException failure(Path file, String what, Throwable cause) {
        return new UserException(file + ": " + what + ": " + reason(cause), cause);
    }

    /**
     * The useful line of an engine's message. Native messages span many lines (TorchScript
     * tracebacks, C++ frames); the last {@code RuntimeError:} line names the failure when there
     * is one, otherwise the first line does.
     */
    static String reason(Throwable cause) {
        String message = cause.getMessage();
        if (message == null || message.isBlank()) {
            return cause.getClass().getSimpleName();
        }
        String first = null;
        String runtimeError = null;
        for (String line : message.split("\\R")) {
            String text = line.strip();
            if (text.isEmpty()) {
                continue;
            }
            if (first == null) {
                first = text;
            }
            if (text.startsWith("RuntimeError:")) {
                runtimeError = text.substring("RuntimeError:".length()).strip();
            }
        }
        return runtimeError != null && !runtimeError.isEmpty() ? runtimeError : first;
    }

    /**
     * The rows of a prior's output, checked: it must be a 2-D float32 tensor with one row per image.
     *
     * @throws UserException naming the file, the shape and the type otherwise
     */
    static float[] rows(Path file, NDArray output, int batch) {
        Shape shape = output.getShape();
        DataType type = output.getDataType();
        if (shape.dimension() != 2 || type != DataType.FLOAT32 || shape.get(1) <= 0) {
            throw new UserException(file + ": prior output must be a 2-D [batch, dim] float32 tensor, got shape "
                    + shape + " " + type);
        }
        if (shape.get(0) != batch) {
            throw new UserException(file + ": prior returned " + shape.get(0) + " rows for a batch of " + batch
                    + " images (output shape " + shape + ")");
        }
        return output.toFloatArray();
    }

    /** Checks that {@code images} holds {@code batch} images of {@code input}'s size. */
    static Shape batchShape(InputSpec input, float[] images, int batch) {
        long perImage = (long) input.channels() * input.height() * input.width();
        if (batch <= 0 || images.length != perImage * batch) {
            throw new IllegalArgumentException("expected " + batch + " images of " + perImage + " floats, got "
                    + images.length + " floats");
        }
        return new Shape(batch, input.channels(), input.height(), input.width());
    }
}
