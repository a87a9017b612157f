package ai.coopt.platform.api;

/** The outcome of an audit's answer ({@code POST /v1/audits/{id}}). */
public record AuditOutcome(long id, String state, String reason) {}
