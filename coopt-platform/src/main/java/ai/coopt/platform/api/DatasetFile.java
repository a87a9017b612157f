package ai.coopt.platform.api;

/** A file of a fused dataset as {@code GET /v1/dataset} lists it: name, size in bytes and sha256. */
public record DatasetFile(String name, long bytes, String sha256) {}
