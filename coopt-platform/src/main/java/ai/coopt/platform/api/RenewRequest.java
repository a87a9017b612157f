package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The body of {@code POST /v1/lease/renew}: the shard whose lease to extend, and the lease's token. */
public record RenewRequest(int shard,
                           @JsonPropertyDescription("The lease token POST /v1/lease granted") String token) {}
