package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The result of an upload: {@code created} when newly accepted, false for an idempotent repeat. */
public record Accepted(
        @JsonPropertyDescription("true when newly accepted (201), false for a retry of the accepted upload (200)")
        boolean created,
        @JsonPropertyDescription("The upload's id") long id, String sha256) {}
