package ai.coopt.platform.server;

import ai.coopt.platform.auth.Sha256;
import ai.coopt.store.DType;
import ai.coopt.store.SafeTensorsHeader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;

/**
 * Checks an upload as it arrives, before any of it is trusted: a participant's outputs are a safetensors file with
 * exactly two tensors, {@code outputs} F32 [rows, d] and {@code ids} I64 [rows], and string metadata. The header is
 * read and checked first (its length, the declared shapes and offsets against the expected rows, the width cap and
 * the body's length), so an oversized or foreign body (a pickle, a TorchScript zip) is refused after at most a few
 * kilobytes; only then is the data streamed to a staging file while its sha256 is computed, and the ids and values
 * are checked from the file. Nothing here allocates by what the body claims.
 */
public final class UploadCheck {
    /** The largest header: two tensors and a prior's description. */
    public static final int MAX_HEADER = 64 << 10;
    /** The widest output a prior may upload. */
    public static final int MAX_DIM = 16_384;
    private static final int BLOCK = 1 << 20;

    /**
     * An upload that passed every check, staged in {@code file} (the complete safetensors bytes, flushed to disk).
     *
     * @param sha256 of the whole body
     */
    public record Checked(Path file, String sha256, long bytes, int rows, int dim, Map<String, String> metadata) {}

    private UploadCheck() {}

    /** The most bytes an upload of {@code rows} rows may have. */
    public static long maxBytes(int rows) {
        return 8L + MAX_HEADER + (long) rows * (8 + 4L * MAX_DIM);
    }

    /**
     * Reads {@code body} ({@code length} bytes, as declared by the request) into {@code staging} and checks it.
     *
     * @param ids the ids the upload must hold, in this order (the leased shard's, or the shared subset's)
     * @param declaredSha256 the body's sha256 the request was signed with
     * @throws Refusal for anything malformed, mismatched or oversized; {@code staging} is deleted then
     */
    public static Checked check(InputStream body, long length, long[] ids, String declaredSha256, Path staging)
            throws Refusal, IOException {
        int rows = ids.length;
        if (length < 0) {
            throw new Refusal(Refusal.Kind.NO_LENGTH, "the upload needs a Content-Length");
        }
        if (length > maxBytes(rows)) {
            throw new Refusal(Refusal.Kind.TOO_LARGE, "the upload is " + length + " bytes; at most " + maxBytes(rows) + " for " + rows
                    + " rows of at most " + MAX_DIM + " floats");
        }
        if (length < 8) {
            throw new Refusal(Refusal.Kind.MALFORMED, "not a safetensors file: " + length + " bytes");
        }
        MessageDigest sha = Sha256.newDigest();
        byte[] lengthBytes = readExactly(body, 8);
        byte[] header;
        SafeTensorsHeader.Parsed parsed;
        try {
            header = readExactly(body, (int) SafeTensorsHeader.length(lengthBytes, length - 8, MAX_HEADER));
            parsed = SafeTensorsHeader.parse(header);
        } catch (SafeTensorsHeader.Malformed e) {
            throw new Refusal(Refusal.Kind.MALFORMED, "not a safetensors file: " + e.getMessage());
        }
        Layout layout = layout(parsed, rows);
        long dataStart = parsed.dataStart();
        if (dataStart + layout.dataBytes() != length) {
            throw new Refusal(Refusal.Kind.MALFORMED, "the header describes " + (dataStart + layout.dataBytes()) + " bytes; the body has "
                    + length);
        }
        boolean ok = false;
        try (FileChannel out = FileChannel.open(staging, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ)) {
            write(out, lengthBytes, lengthBytes.length, sha);
            write(out, header, header.length, sha);
            byte[] buffer = new byte[BLOCK];
            long left = layout.dataBytes();
            while (left > 0) {
                int n = body.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new Refusal(Refusal.Kind.MALFORMED, "the body ended " + left + " bytes early");
                }
                write(out, buffer, n, sha);
                left -= n;
            }
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!actual.equalsIgnoreCase(declaredSha256)) {
                throw new Refusal(Refusal.Kind.MALFORMED, "the body's sha256 is " + actual + ", the request was signed for "
                        + declaredSha256);
            }
            checkIds(out, dataStart + layout.idsBegin(), ids);
            checkFinite(out, dataStart + layout.outputsBegin(), (long) rows * layout.dim());
            out.force(true);
            ok = true;
            return new Checked(staging, actual, length, rows, layout.dim(), layout.metadata());
        } finally {
            if (!ok) {
                Files.deleteIfExists(staging);
            }
        }
    }

    private record Layout(int dim, long outputsBegin, long idsBegin, long dataBytes, Map<String, String> metadata) {}

    /** Exactly the two tensors of an upload, of the types, rows and width it must have. */
    private static Layout layout(SafeTensorsHeader.Parsed header, int rows) throws Refusal {
        for (String name : header.tensors().keySet()) {
            if (!name.equals("outputs") && !name.equals("ids")) {
                throw new Refusal(Refusal.Kind.MALFORMED, "unexpected tensor '" + SafeTensorsHeader.quote(name)
                        + "': an upload holds outputs and ids only");
            }
        }
        SafeTensorsHeader.Declared outputs = header.tensors().get("outputs");
        SafeTensorsHeader.Declared ids = header.tensors().get("ids");
        if (outputs == null || ids == null) {
            throw new Refusal(Refusal.Kind.MALFORMED, "an upload holds two tensors, outputs and ids; " + (outputs == null ? "outputs" : "ids")
                    + " is missing");
        }
        expect(outputs, DType.F32, 2);
        expect(ids, DType.I64, 1);
        if (outputs.shape()[0] != rows || ids.shape()[0] != rows) {
            throw new Refusal(Refusal.Kind.UNACCEPTABLE, "the upload has " + outputs.shape()[0] + " rows of outputs and " + ids.shape()[0]
                    + " ids; the shard has " + rows);
        }
        long dim = outputs.shape()[1];
        if (dim < 1 || dim > MAX_DIM) {
            throw new Refusal(Refusal.Kind.UNACCEPTABLE, "outputs are " + dim + " wide; between 1 and " + MAX_DIM + " allowed");
        }
        return new Layout((int) dim, outputs.begin(), ids.begin(), header.dataBytes(), header.metadata());
    }

    private static void expect(SafeTensorsHeader.Declared t, DType dtype, int rank) throws Refusal {
        if (!dtype.name().equals(t.dtype())) {
            throw new Refusal(Refusal.Kind.UNACCEPTABLE, t.name() + " must be " + dtype + ", found " + SafeTensorsHeader.quote(t.dtype()));
        }
        if (t.shape().length != rank) {
            throw new Refusal(Refusal.Kind.UNACCEPTABLE, t.name() + " must have shape of rank " + rank);
        }
    }

    private static void checkIds(FileChannel in, long at, long[] ids) throws IOException, Refusal {
        ByteBuffer b = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        int i = 0;
        while (i < ids.length) {
            int n = Math.min(BLOCK / 8, ids.length - i);
            b.clear().limit(8 * n);
            readFully(in, b, at + 8L * i);
            b.flip();
            for (int j = 0; j < n; j++, i++) {
                long id = b.getLong();
                if (id != ids[i]) {
                    throw new Refusal(Refusal.Kind.UNACCEPTABLE, "row " + i + " has id " + id + "; the shard's row " + i + " is sample " + ids[i]
                            + " (ids must be exactly the shard's, in order: none missing, none repeated, none foreign)");
                }
            }
        }
    }

    private static void checkFinite(FileChannel in, long at, long count) throws IOException, Refusal {
        ByteBuffer b = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        long done = 0;
        while (done < count) {
            int n = (int) Math.min(BLOCK / 4, count - done);
            b.clear().limit(4 * n);
            readFully(in, b, at + 4L * done);
            b.flip();
            for (int j = 0; j < n; j++) {
                float v = b.getFloat();
                if (!Float.isFinite(v)) {
                    throw new Refusal(Refusal.Kind.UNACCEPTABLE, "output value " + (done + j) + " is " + v + ": every output must be finite");
                }
            }
            done += n;
        }
    }

    private static void readFully(FileChannel in, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            if (in.read(b, position + b.position()) < 0) {
                throw new IOException("staged upload shorter than written");
            }
        }
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException, Refusal {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new Refusal(Refusal.Kind.MALFORMED, "the body ended after " + b.length + " of " + n + " header bytes");
        }
        return b;
    }

    private static void write(FileChannel out, byte[] bytes, int n, MessageDigest sha) throws IOException {
        sha.update(bytes, 0, n);
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, n);
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

}
