package ai.coopt.platform;

import ai.coopt.UserException;
import ai.coopt.collab.PriorReport;
import ai.coopt.store.DType;
import ai.coopt.store.Json;
import ai.coopt.store.RowFile;
import ai.coopt.store.Rows;
import ai.coopt.store.SafeTensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one file format a participant uploads: safetensors with {@code outputs} F32 [rows, d] and {@code ids} I64
 * [rows] (ids first), plus string metadata; the upload on the shared subset carries the prior's report as JSON under
 * {@value #PRIOR}. Written by the participant, checked by the server ({@code server.UploadCheck}), read at fusion.
 */
public final class Uploads {
    /** The metadata key of the prior's report (JSON) in an upload on the shared subset. */
    public static final String PRIOR = "prior";

    private Uploads() {}

    /** Writes {@code rows} with their {@code ids} to {@code file}, block by block, atomically. */
    public static void write(Path file, long[] ids, Rows rows, Map<String, String> metadata) {
        if (ids.length != rows.count()) {
            throw new IllegalArgumentException(rows.count() + " rows for " + ids.length + " ids");
        }
        LinkedHashMap<String, SafeTensors.Spec> specs = new LinkedHashMap<>();
        specs.put("ids", new SafeTensors.Spec(DType.I64, new long[] {ids.length}));
        specs.put("outputs", new SafeTensors.Spec(DType.F32, new long[] {rows.count(), rows.dim()}));
        SafeTensors.write(file, specs, metadata, out -> {
            out.longs(ids, 0, ids.length);
            out.rows(rows);
        });
    }

    /** The prior report as the metadata of an upload on the shared subset. */
    public static Map<String, String> priorMetadata(PriorReport prior) {
        try {
            return Map.of(PRIOR, Json.mapper().writeValueAsString(prior));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The prior report of a checked upload's metadata; {@code null} when it is missing or not a valid report. */
    public static PriorReport prior(Map<String, String> metadata) {
        String json = metadata.get(PRIOR);
        if (json == null || json.length() > 16_384) {
            return null;
        }
        try {
            // a participant of a version that did not report its precision computed in fp32
            return Json.convert(Json.mapper().readTree(json), PriorReport.class,
                    Map.of("/precision", com.fasterxml.jackson.databind.node.NullNode.getInstance()));
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    /** An accepted upload on disk: its ids in memory, its rows read on demand (close it). */
    public record Opened(long[] ids, RowFile rows, Map<String, String> metadata) implements AutoCloseable {
        @Override
        public void close() {
            rows.close();
        }
    }

    /** Opens an upload file (already checked when it was accepted; its header is checked again). */
    public static Opened open(Path file) {
        SafeTensors.Layout layout = SafeTensors.layout(file);
        SafeTensors.Entry ids = layout.entry("ids", DType.I64, 1, "[rows]");
        SafeTensors.Entry outputs = layout.entry("outputs", DType.F32, 2, "[rows, dim]");
        if (ids.shape()[0] != outputs.shape()[0]) {
            throw new UserException(file + ": " + ids.shape()[0] + " ids for " + outputs.shape()[0] + " rows");
        }
        long[] values = layout.longs(ids);
        return new Opened(values, layout.rows(outputs), layout.metadata());
    }
}
