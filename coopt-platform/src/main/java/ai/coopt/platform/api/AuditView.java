package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** An audit to answer, as {@code POST /v1/audits} lists it, with the sha256 of its images file. */
public record AuditView(long id, int rows,
                        @JsonPropertyDescription("Epoch milliseconds; an audit not answered by then fails")
                        long deadline,
                        @JsonPropertyDescription("Of the audit's images file") String sha256) {}
