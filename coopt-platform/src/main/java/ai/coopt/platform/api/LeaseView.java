package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

/** What {@code POST /v1/lease} and {@code /v1/lease/renew} answer. */
public record LeaseView(
        @JsonPropertyDescription("granted: a shard, its ids and a lease token; wait: every shard is leased, ask again "
                + "after wait_ms; done: every shard is accepted") String state,
        Integer shard,
        @JsonPropertyDescription("The shard's image ids, in the order the upload must follow")
        @JsonSetter(nulls = Nulls.SET) long[] ids,
        @JsonPropertyDescription("The lease token, for renewals and the upload") @JsonSetter(nulls = Nulls.SET)
        String token,
        @JsonPropertyDescription("When the lease expires, epoch milliseconds") Long expiresAt,
        @JsonPropertyDescription("sha256 of the shard's images file") @JsonSetter(nulls = Nulls.SET) String sha256,
        Integer count,
        @JsonPropertyDescription("With state wait: when to ask again") Long waitMs) {}
