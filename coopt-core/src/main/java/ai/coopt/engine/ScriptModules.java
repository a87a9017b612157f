package ai.coopt.engine;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Engine operations DJL does not expose, as parameterless TorchScript modules written here from their source: an
 * archive as TorchScript saves one (the module's code, an empty pickled object, the format version), loaded by the
 * engine, which compiles the code. Nothing is downloaded and nothing but this class's own constant pickle is read.
 */
final class ScriptModules {
    private ScriptModules() {}

    /**
     * Loads a module {@code name} whose forward takes one tensor {@code x} and returns {@code returnType}, computed by
     * {@code body} (TorchScript statements, each on its own line, without indentation).
     */
    static ScriptModule load(String name, String returnType, String... body) {
        return loadWith(name, "x: Tensor", returnType, body);
    }

    /** {@link #load} for a forward that takes {@code arguments} (e.g. {@code "w: Tensor, g: Tensor"}). */
    static ScriptModule loadWith(String name, String arguments, String returnType, String... body) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("coopt-script-");
            Path file = dir.resolve(name + ".pt");
            try (OutputStream out = Files.newOutputStream(file)) {
                out.write(archive(name, arguments, returnType, body));
            }
            Model model = Model.newInstance(name, Device.cpu(), "PyTorch");
            try {
                model.load(file);
            } catch (MalformedModelException | RuntimeException e) {
                model.close();
                throw new IllegalStateException("the engine refused the TorchScript module " + name, e);
            }
            return new ScriptModule(model);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the TorchScript module " + name, e);
        } finally {
            if (dir != null) {
                try (var files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                    Files.deleteIfExists(dir);
                } catch (IOException ignored) {
                    // a leftover file in the temporary directory is harmless
                }
            }
        }
    }

    static byte[] archive(String name, String arguments, String returnType, String... body) throws IOException {
        StringBuilder code = new StringBuilder("class " + name + "(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + "  def forward(self: __torch__." + name + ",\n"
                + "    " + arguments + ") -> " + returnType + ":\n");
        for (String line : body) {
            code.append("    ").append(line).append('\n');
        }
        // pickle protocol 2: __torch__.NAME() with its state {"training": True}
        ByteArrayOutputStream pickle = new ByteArrayOutputStream();
        pickle.write(new byte[] {(byte) 0x80, 2, 'c'});
        pickle.write(("__torch__\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        pickle.write(new byte[] {')', (byte) 0x81, '}', '(', 'X', 8, 0, 0, 0});
        pickle.write("training".getBytes(StandardCharsets.US_ASCII));
        pickle.write(new byte[] {(byte) 0x88, 'u', 'b', '.'});
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(zip)) {
            stored(z, "m/data.pkl", pickle.toByteArray());
            stored(z, "m/code/__torch__.py", code.toString().getBytes(StandardCharsets.UTF_8));
            stored(z, "m/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            stored(z, "m/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return zip.toByteArray();
    }

    private static void stored(ZipOutputStream z, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }
}
