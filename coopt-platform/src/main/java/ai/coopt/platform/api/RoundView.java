package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What {@code GET /v1/round} answers: the current round, its data and its shared subset. */
public record RoundView(
        @JsonPropertyDescription("The current round's number, 1 for the first; every round has the same plan, but a "
                + "participant sends its outputs on S again each round") int round,
        @JsonPropertyDescription("The data spec") String data, String split,
        @JsonPropertyDescription("serve --limit: the round is a seeded random subset of this many images of the split, "
                + "stratified by class (0 = the whole split); sample ids stay indices in the split") int limit,
        @JsonPropertyDescription("serve --limit-seed: the subset's seed; a participant reading a local copy draws the "
                + "same subset with it") long limitSeed,
        @JsonPropertyDescription("The --image-size serve was given (image folders), or null") Integer imageSize,
        @JsonPropertyDescription("Images in the round") int count,
        @JsonPropertyDescription("How many shards the round has") int shards,
        @JsonPropertyDescription("The image ids of the shared subset S, in order") long[] sharedIds, long seed,
        @JsonPropertyDescription("The data's fingerprint; a participant reading a local copy checks it against this")
        String fingerprint,
        @JsonPropertyDescription("sha256 of GET /v1/shared/images") String sharedSha256, int sharedCount) {}
