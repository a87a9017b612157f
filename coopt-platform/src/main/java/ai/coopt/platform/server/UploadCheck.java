package ai.coopt.platform.server;

import ai.coopt.platform.auth.Sha256;
import ai.coopt.store.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

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
import java.util.Iterator;
import java.util.LinkedHashMap;
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

    /** An upload refused, with the reason the participant is told; {@code status} is the HTTP status. */
    public static final class Refused extends Exception {
        private final int status;

        public Refused(int status, String reason) {
            super(reason);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

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
     * @throws Refused for anything malformed, mismatched or oversized; {@code staging} is deleted then
     */
    public static Checked check(InputStream body, long length, long[] ids, String declaredSha256, Path staging)
            throws Refused, IOException {
        int rows = ids.length;
        if (length < 0) {
            throw new Refused(411, "the upload needs a Content-Length");
        }
        if (length > maxBytes(rows)) {
            throw new Refused(413, "the upload is " + length + " bytes; at most " + maxBytes(rows) + " for " + rows
                    + " rows of at most " + MAX_DIM + " floats");
        }
        if (length < 8) {
            throw new Refused(400, "not a safetensors file: " + length + " bytes");
        }
        MessageDigest sha = Sha256.newDigest();
        byte[] lengthBytes = readExactly(body, 8);
        long headerLength = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength < 2 || headerLength > MAX_HEADER || 8 + headerLength > length) {
            throw new Refused(400, "not a safetensors file: header length " + Long.toUnsignedString(headerLength)
                    + " (at most " + MAX_HEADER + ")");
        }
        byte[] header = readExactly(body, (int) headerLength);
        Layout layout = layout(header, rows);
        long dataStart = 8 + headerLength;
        if (dataStart + layout.dataBytes() != length) {
            throw new Refused(400, "the header describes " + (dataStart + layout.dataBytes()) + " bytes; the body has "
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
                    throw new Refused(400, "the body ended " + left + " bytes early");
                }
                write(out, buffer, n, sha);
                left -= n;
            }
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!actual.equalsIgnoreCase(declaredSha256)) {
                throw new Refused(400, "the body's sha256 is " + actual + ", the request was signed for "
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

    private static Layout layout(byte[] header, int rows) throws Refused {
        JsonNode root;
        try {
            root = Json.mapper().readTree(header);
        } catch (JsonProcessingException e) {
            throw new Refused(400, "not a safetensors file: the header is not JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new Refused(400, "not a safetensors file: unreadable header");
        }
        if (root == null || !root.isObject()) {
            throw new Refused(400, "not a safetensors file: the header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode outputs = null;
        JsonNode idsNode = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            switch (e.getKey()) {
                case "outputs" -> outputs = e.getValue();
                case "ids" -> idsNode = e.getValue();
                case "__metadata__" -> {
                    if (!e.getValue().isObject()) {
                        throw new Refused(400, "__metadata__ must be an object of strings");
                    }
                    for (Iterator<Map.Entry<String, JsonNode>> m = e.getValue().fields(); m.hasNext(); ) {
                        Map.Entry<String, JsonNode> kv = m.next();
                        if (!kv.getValue().isTextual()) {
                            throw new Refused(400, "__metadata__ must be an object of strings ('" + kv.getKey() + "' is not)");
                        }
                        metadata.put(kv.getKey(), kv.getValue().textValue());
                    }
                }
                default -> throw new Refused(400, "unexpected tensor '" + limit(e.getKey()) + "': an upload holds outputs and ids only");
            }
        }
        if (outputs == null || idsNode == null) {
            throw new Refused(400, "an upload holds two tensors, outputs and ids; " + (outputs == null ? "outputs" : "ids")
                    + " is missing");
        }
        long[] o = tensor(outputs, "outputs", "F32", 2);
        long[] i = tensor(idsNode, "ids", "I64", 1);
        if (o[0] != rows || i[0] != rows) {
            throw new Refused(422, "the upload has " + o[0] + " rows of outputs and " + i[0] + " ids; the shard has " + rows);
        }
        if (o[1] < 1 || o[1] > MAX_DIM) {
            throw new Refused(422, "outputs are " + o[1] + " wide; between 1 and " + MAX_DIM + " allowed");
        }
        long outputBytes = 4L * rows * o[1];
        long idBytes = 8L * rows;
        // offsets [begin, end) of each tensor, which must tile the data exactly, in either order
        long ob = o[2];
        long oe = o[3];
        long ib = i[1];
        long ie = i[2];
        if (oe - ob != outputBytes || ie - ib != idBytes
                || !((ob == 0 && ib == oe) || (ib == 0 && ob == ie))) {
            throw new Refused(400, "the tensors' data_offsets do not tile the data: outputs [" + ob + "," + oe
                    + "), ids [" + ib + "," + ie + ")");
        }
        return new Layout((int) o[1], ob, ib, outputBytes + idBytes, metadata);
    }

    /** The tensor's shape followed by its two data offsets, after checking its dtype and rank. */
    private static long[] tensor(JsonNode t, String name, String dtype, int rank) throws Refused {
        if (!t.isObject() || !dtype.equals(t.path("dtype").asText(null))) {
            throw new Refused(422, name + " must be " + dtype + ", found " + limit(t.path("dtype").toString()));
        }
        JsonNode shape = t.path("shape");
        JsonNode offsets = t.path("data_offsets");
        if (!shape.isArray() || shape.size() != rank || !offsets.isArray() || offsets.size() != 2 || t.size() != 3) {
            throw new Refused(422, name + " must have shape of rank " + rank + " and two data_offsets");
        }
        long[] out = new long[rank + 2];
        for (int k = 0; k < rank; k++) {
            out[k] = natural(shape.get(k), name);
        }
        out[rank] = natural(offsets.get(0), name);
        out[rank + 1] = natural(offsets.get(1), name);
        return out;
    }

    private static long natural(JsonNode n, String name) throws Refused {
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0 || n.asLong() > (1L << 50)) {
            throw new Refused(400, name + ": " + limit(n.toString()) + " is not a size");
        }
        return n.asLong();
    }

    private static void checkIds(FileChannel in, long at, long[] ids) throws IOException, Refused {
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
                    throw new Refused(422, "row " + i + " has id " + id + "; the shard's row " + i + " is sample " + ids[i]
                            + " (ids must be exactly the shard's, in order: none missing, none repeated, none foreign)");
                }
            }
        }
    }

    private static void checkFinite(FileChannel in, long at, long count) throws IOException, Refused {
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
                    throw new Refused(422, "output value " + (done + j) + " is " + v + ": every output must be finite");
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

    private static byte[] readExactly(InputStream in, int n) throws IOException, Refused {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new Refused(400, "the body ended after " + b.length + " of " + n + " header bytes");
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

    private static String limit(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
