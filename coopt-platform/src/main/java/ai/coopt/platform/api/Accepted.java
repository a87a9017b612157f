package ai.coopt.platform.api;

/** The result of an upload: {@code created} when newly accepted, false for an idempotent repeat. */
public record Accepted(boolean created, long id, String sha256) {}
