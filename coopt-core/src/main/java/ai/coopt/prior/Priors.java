package ai.coopt.prior;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.nn.Architectures;
import ai.coopt.engine.Precision;
import ai.djl.Device;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Opens a prior from its spec: {@code random:ARCH[:SEED]}, {@code model:DIR} (a bare existing
 * directory works too), {@code zoo:NAME} (a prior the project ships, see {@link Zoo}),
 * {@code torchscript:FILE.pt[#METHOD]}, {@code onnx:FILE.onnx}.
 */
public final class Priors {
    /** The accepted forms, for messages. */
    public static final String FORMS = "random:ARCH[:SEED], model:DIR, zoo:NAME, torchscript:FILE.pt[#METHOD], onnx:FILE.onnx";

    private Priors() {}

    /**
     * Checks a spec's syntax and that the files it names exist, without loading anything,
     * so a command can refuse a bad spec before heavy work starts.
     */
    public static void check(String spec) {
        parse(spec);
    }

    /**
     * Opens the prior. {@code data} is the image set it will embed: a random prior is built for
     * its shape and normalised with its statistics; other priors declare their own input.
     */
    public static Prior open(String spec, ImageSet data, Device device) {
        return open(spec, data, device, Precision.FP32);
    }

    /**
     * As {@link #open(String, ImageSet, Device)}, computing in {@code precision} where the prior's runtime allows:
     * this project's networks do; TorchScript and ONNX priors compute in float32 whatever is asked (their weights
     * are the file's, and DJL cannot cast a loaded module), and say so ({@link Prior#precision}).
     */
    public static Prior open(String spec, ImageSet data, Device device, Precision precision) {
        Parsed p = parse(spec);
        return switch (p.kind) {
            case "random" -> NetworkPrior.random(p.arch, p.seed, data, device, precision);
            case "model" -> NetworkPrior.model(p.path, device, precision);
            case "torchscript" -> TorchScriptPrior.open(p.path, p.method, device);
            case "onnx" -> OnnxPrior.open(p.path);
            default -> throw new IllegalStateException(p.kind);
        };
    }

    private record Parsed(String kind, String arch, long seed, Path path, String method) {}

    private static Parsed parse(String spec) {
        String s = spec == null ? "" : spec.strip();
        if (s.startsWith("random:")) {
            String[] parts = s.substring("random:".length()).split(":", -1);
            if (parts.length > 2 || parts[0].isEmpty()) {
                throw new UserException("bad prior spec '" + s + "': expected one of " + FORMS);
            }
            Architectures.create(parts[0]);
            long seed = 0;
            if (parts.length == 2) {
                try {
                    seed = Long.parseLong(parts[1]);
                } catch (NumberFormatException e) {
                    throw new UserException("bad seed in prior spec '" + s + "': '" + parts[1] + "' is not an integer");
                }
            }
            return new Parsed("random", parts[0], seed, null, null);
        }
        if (s.startsWith("torchscript:")) {
            String rest = s.substring("torchscript:".length());
            int hash = rest.lastIndexOf('#');
            String method = hash < 0 ? null : rest.substring(hash + 1);
            if (method != null && !method.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new UserException("bad method in prior spec '" + s + "': '" + method + "' is not a method name");
            }
            return new Parsed("torchscript", null, 0, existingFile(s, hash < 0 ? rest : rest.substring(0, hash)), method);
        }
        if (s.startsWith("onnx:")) {
            return new Parsed("onnx", null, 0, existingFile(s, s.substring("onnx:".length())), null);
        }
        if (s.startsWith("zoo:")) {
            return new Parsed("model", null, 0, Zoo.dir(s.substring("zoo:".length())), null);
        }
        String dir = s.startsWith("model:") ? s.substring("model:".length()) : s;
        Path path = path(s, dir);
        if (!Files.isDirectory(path)) {
            throw new UserException("prior '" + s + "' is not " + FORMS + (s.startsWith("model:") ? " (no such directory)" : ""));
        }
        return new Parsed("model", null, 0, path, null);
    }

    private static Path existingFile(String spec, String file) {
        Path path = path(spec, file);
        if (!Files.isRegularFile(path)) {
            throw new UserException("prior '" + spec + "': no such file " + path);
        }
        return path;
    }

    private static Path path(String spec, String text) {
        if (text.isEmpty()) {
            throw new UserException("prior spec '" + spec + "' names no file or directory; expected one of " + FORMS);
        }
        try {
            return Path.of(text).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new UserException("prior spec '" + spec + "': not a valid path: " + e.getMessage());
        }
    }
}
