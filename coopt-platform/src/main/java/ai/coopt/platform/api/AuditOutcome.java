package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

/** The outcome of an audit's answer ({@code POST /v1/audits/{id}}). */
public record AuditOutcome(long id, String state, @JsonSetter(nulls = Nulls.SET) String reason) {}
