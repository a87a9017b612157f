package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The body of {@code POST /v1/enroll}: a one-time invite and the new participant's Ed25519 public key. */
public record EnrollRequest(
        @JsonPropertyDescription("The token `coopt platform invite` printed (at most 200 characters)") String invite,
        @JsonPropertyDescription("The new Ed25519 public key: its 32 bytes, base64") String publicKey) {}
