package ai.coopt.platform.api;

import java.util.List;

/** What {@code POST /v1/audits} answers: the participant's pending audits. */
public record Audits(List<AuditView> audits) {}
