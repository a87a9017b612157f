package ai.coopt.platform.client;

import ai.coopt.UserException;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.OptimizedDataset;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;

/** Fetches a platform's fused optimized dataset: every listed file checked by sha256, the whole verified, then moved into place. */
public final class DatasetDownload {
    /** What was downloaded. */
    public record Result(Path out, int count, int dim, int files, long bytes) {}

    private DatasetDownload() {}

    public static Result fetch(PlatformClient client, Path out) {
        AtomicFiles.checkWritable(out, OptimizedDataset.KIND);
        JsonNode files;
        try {
            files = client.get("/v1/dataset").path("files");
        } catch (PlatformClient.Refusal e) {
            throw new UserException("the platform has no fused dataset yet: " + e.getMessage());
        }
        long bytes = 0;
        for (JsonNode f : files) {
            String name = f.path("name").asText();
            if (!name.matches("[A-Za-z0-9._-]{1,100}") || name.startsWith(".")) {
                throw new UserException("the platform listed a file named '" + name + "'; refusing it");
            }
            bytes += f.path("bytes").asLong();
        }
        AtomicFiles.writeDirectory(out, OptimizedDataset.KIND, true, tmp -> {
            for (JsonNode f : files) {
                String name = f.path("name").asText();
                client.download("/v1/dataset/" + name, tmp.resolve(name), f.path("sha256").asText(), false);
            }
            OptimizedDataset.read(tmp);
        });
        OptimizedDataset d = OptimizedDataset.read(out);
        return new Result(out, d.count(), d.dim(), files.size(), bytes);
    }
}
