package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What {@code POST /v1/enroll} answers: the new participant's id (it signs later requests with it) and name. */
public record Enrolled(String participantId,
                       @JsonPropertyDescription("The name the invite was made for") String name) {}
