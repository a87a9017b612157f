package ai.coopt.platform.api;

import java.util.List;

/** {@code GET /v1/dataset}: the round whose fused dataset it is, and its files. */
public record DatasetListing(int round, List<DatasetFile> files) {}
