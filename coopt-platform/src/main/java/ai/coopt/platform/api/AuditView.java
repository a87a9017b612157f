package ai.coopt.platform.api;

/** An audit to answer, as {@code POST /v1/audits} lists it, with the sha256 of its images file. */
public record AuditView(long id, int rows, long deadline, String sha256) {}
