package ai.coopt.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The one place where a safetensors header is made and checked, for every file this project writes or reads
 * ({@link SafeTensors}: targets, outputs, weights; {@link PackedImages}: image shards) and for the bytes a participant
 * uploads (the platform's upload check). A header is an 8-byte little-endian length N and N bytes of JSON: one entry
 * per tensor, exactly {@code dtype}, {@code shape} and {@code data_offsets}, plus an optional {@value #METADATA_KEY}
 * object of strings. {@link #parse} checks the structure, that every size is a non-negative integer, that a known
 * dtype's shape spans exactly its byte range, and that the ranges tile the data from byte 0 without gap or overlap;
 * which tensors, dtypes and shapes a reader wants is its own check. Nothing is allocated by what the bytes claim
 * before their length is checked against a limit the caller sets, and no message repeats more than a few dozen
 * characters of what it was sent.
 */
public final class SafeTensorsHeader {
    /** The key of the free string-to-string map in the header. */
    public static final String METADATA_KEY = "__metadata__";
    private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");
    private static final int QUOTE = 80;

    private SafeTensorsHeader() {}

    /** Bytes that are not a well-formed safetensors header; the message says what, not where the bytes came from. */
    public static final class Malformed extends RuntimeException {
        public Malformed(String message) {
            super(message);
        }
    }

    /**
     * A tensor as the header declares it.
     *
     * @param dtype its element type as written ({@link #type()} is null for a type this project does not know)
     * @param begin where its data starts, in bytes from the start of the data section
     * @param end where it ends (exclusive)
     */
    public record Declared(String name, String dtype, long[] shape, long begin, long end) {
        /** Its element type, or null when this project does not know it. */
        public DType type() {
            for (DType t : DType.values()) {
                if (t.name().equals(dtype)) {
                    return t;
                }
            }
            return null;
        }

        /** The number of elements (checked by {@link #parse} not to overflow). */
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        /** e.g. {@code F32 [10, 64] at [0, 2560)}, for messages. */
        public String describe() {
            return quote(dtype) + " " + Arrays.toString(shape) + " at [" + begin + ", " + end + ")";
        }
    }

    /**
     * A checked header.
     *
     * @param tensors the tensors by name, in the order of their data
     * @param dataStart where the data section begins in the file (8 + the header's length)
     * @param dataBytes the bytes the tensors cover, from the start of the data section
     */
    public record Parsed(Map<String, Declared> tensors, Map<String, String> metadata, long dataStart, long dataBytes) {}

    /**
     * The header's length, from the file's first 8 bytes, after checking it against {@code max} and against the
     * {@code available} bytes that follow them.
     */
    public static long length(byte[] first8, long available, long max) {
        long length = ByteBuffer.wrap(first8, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (length < 2 || length > max) {
            throw new Malformed("header length " + Long.toUnsignedString(length) + " is absurd (at most " + max
                    + " bytes)");
        }
        if (length > available) {
            throw new Malformed("header length " + length + " exceeds the file size (" + available
                    + " bytes after it); truncated?");
        }
        return length;
    }

    /**
     * Reads and checks the header at the start of {@code in} (a header longer than {@code max} bytes is refused before
     * it is read).
     *
     * @throws Malformed for a header that is not well formed, or a file too short for its header
     */
    public static Parsed read(FileChannel in, long max) throws IOException {
        long size = in.size();
        if (size < 8) {
            throw new Malformed(size + " bytes, too short for a safetensors file");
        }
        ByteBuffer first = ByteBuffer.allocate(8);
        readFully(in, first, 0);
        long length = length(first.array(), size - 8, max);
        ByteBuffer json = ByteBuffer.allocate((int) length);
        readFully(in, json, 8);
        return parse(json.array());
    }

    /**
     * Checks a header's JSON (the bytes after the 8-byte length; the data section begins right after them).
     *
     * @throws Malformed for anything not well formed
     */
    public static Parsed parse(byte[] json) {
        JsonNode root;
        try {
            root = Json.mapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new Malformed("the header is not valid JSON (" + quote(Json.describe(e)) + ")");
        } catch (IOException e) {
            throw new Malformed("the header is unreadable");
        }
        if (root == null || !root.isObject()) {
            throw new Malformed("the header is not a JSON object");
        }
        Map<String, String> metadata = Map.of();
        List<Declared> tensors = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA_KEY)) {
                metadata = metadata(field.getValue());
            } else {
                tensors.add(tensor(field.getKey(), field.getValue()));
            }
        }
        tensors.sort(Comparator.comparingLong(Declared::begin).thenComparingLong(Declared::end));
        long covered = 0;
        Map<String, Declared> byName = new LinkedHashMap<>();
        for (Declared t : tensors) {
            if (t.begin() < covered) {
                throw new Malformed("tensor '" + quote(t.name()) + "' overlaps the tensor before it (starts at byte "
                        + t.begin() + ", the previous ends at " + covered + ")");
            }
            if (t.begin() > covered) {
                throw new Malformed("gap in the data section: bytes " + covered + " to " + t.begin()
                        + " belong to no tensor");
            }
            covered = t.end();
            byName.put(t.name(), t);
        }
        return new Parsed(Collections.unmodifiableMap(byName), metadata, 8L + json.length, covered);
    }

    /**
     * The header for {@code tensors}, whose data follows in their map order: the 8-byte length and the JSON, padded with
     * spaces to a multiple of 8 bytes. Metadata keys are written sorted, so identical input gives identical bytes.
     *
     * @param metadataLast where the metadata goes: after the tensors (image shards, whose bytes have always been so)
     *     or before them (every other file)
     */
    public static byte[] write(LinkedHashMap<String, SafeTensors.Spec> tensors, Map<String, String> metadata,
                               boolean metadataLast) {
        ObjectNode root = Json.mapper().createObjectNode();
        if (!metadataLast) {
            putMetadata(root, metadata);
        }
        long offset = 0;
        for (Map.Entry<String, SafeTensors.Spec> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name.isEmpty() || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("invalid tensor name '" + name + "'");
            }
            SafeTensors.Spec t = e.getValue();
            long end = offset + t.bytes();
            ObjectNode node = root.putObject(name);
            node.put("dtype", t.dtype().name());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            node.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        if (metadataLast) {
            putMetadata(root, metadata);
        }
        byte[] json;
        try {
            json = Json.mapper().writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of strings and numbers always serialises", e);
        }
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        while (out.hasRemaining()) {
            out.put((byte) ' ');
        }
        return out.array();
    }

    /** At most {@value #QUOTE} characters of a string a file or a peer sent, for a message. */
    public static String quote(String s) {
        return s.length() > QUOTE ? s.substring(0, QUOTE) + "…" : s;
    }

    private static void putMetadata(ObjectNode root, Map<String, String> metadata) {
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA_KEY);
            new TreeMap<>(metadata).forEach(meta::put);
        }
    }

    private static Map<String, String> metadata(JsonNode node) {
        if (!node.isObject()) {
            throw new Malformed(METADATA_KEY + " is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new Malformed(METADATA_KEY + " entry '" + quote(e.getKey()) + "' is not a string");
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Declared tensor(String name, JsonNode node) {
        String where = "tensor '" + quote(name) + "'";
        if (!node.isObject()) {
            throw new Malformed(where + " is not described by a JSON object");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!ENTRY_FIELDS.contains(field)) {
                throw new Malformed(where + " has a field '" + quote(field) + "'; a tensor has dtype, shape and "
                        + "data_offsets only");
            }
        }
        JsonNode dtype = node.get("dtype");
        if (dtype == null || !dtype.isTextual()) {
            throw new Malformed(where + " has no dtype string");
        }
        long[] shape = naturals(where + " shape", node.get("shape"), -1);
        long[] offsets = naturals(where + " data_offsets", node.get("data_offsets"), 2);
        if (offsets[0] > offsets[1]) {
            throw new Malformed(where + " data_offsets [" + offsets[0] + ", " + offsets[1] + "] end before they begin");
        }
        Declared t = new Declared(name, dtype.textValue(), shape, offsets[0], offsets[1]);
        try {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            DType type = t.type();
            if (type != null && Math.multiplyExact(n, type.bytes()) != offsets[1] - offsets[0]) {
                throw new Malformed(where + " has shape " + Arrays.toString(shape) + " of " + type + " ("
                        + n * type.bytes() + " bytes) but data_offsets span " + (offsets[1] - offsets[0]) + " bytes");
            }
        } catch (ArithmeticException e) {
            throw new Malformed(where + " shape " + Arrays.toString(shape) + " is impossibly large");
        }
        return t;
    }

    /** A JSON array of non-negative integers, of {@code length} elements unless it is negative. */
    private static long[] naturals(String what, JsonNode node, int length) {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new Malformed(what + " must be an array of " + (length >= 0 ? length + " " : "") + "non-negative integers");
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new Malformed(what + " must hold non-negative integers, found " + quote(v.toString()));
            }
            values[i] = v.longValue();
        }
        return values;
    }

    private static void readFully(FileChannel in, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (in.read(buffer, position + buffer.position()) < 0) {
                throw new Malformed("ends within its header (was it modified while being read?)");
            }
        }
    }
}
