package ai.coopt.platform.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

/**
 * The body of {@code POST /v1/lease}: empty, {@code {}} or {@code {"worker": NAME}} (the server reads it leniently, as
 * clients of before workers send nothing or {@code {}}).
 */
public record LeaseRequest(
        @JsonPropertyDescription("Which of the participant's processes asks (its own name for itself, at most 64 of "
                + "A-Z a-z 0-9 . _ -): the same worker asking again gets its lease back; none: the participant's only "
                + "process") @JsonSetter(nulls = Nulls.SET) String worker) {}
