package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What {@code GET /health} answers: the platform is serving, and its version. */
public record Health(@JsonPropertyDescription("Always ok") String status, String version) {
    /** The platform is serving, at {@code version}. */
    public static Health ok(String version) {
        return new Health("ok", version);
    }
}
