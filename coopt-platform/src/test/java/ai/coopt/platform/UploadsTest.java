package ai.coopt.platform;

import ai.coopt.collab.PriorReport;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The prior report an upload on S carries, as the platform reads it back (from the request or its own records). */
class UploadsTest {
    @Test
    void aReportWithItsPrecisionReadsBackAndOneFromBeforePrecisionWasReportedIsFp32() {
        PriorReport bf16 = new PriorReport("random:convnet-s:9", "random", "0".repeat(64),
                TestPlatform.report(8).input(), 8, -1.5, 20, "bf16");
        assertEquals(bf16, Uploads.prior(Uploads.priorMetadata(bf16)));
        PriorReport old = TestPlatform.report(8);
        String json = Uploads.priorMetadata(old).get(Uploads.PRIOR);
        assertEquals(-1, json.indexOf("precision"), "an unreported precision is left out: " + json);
        PriorReport read = Uploads.prior(Map.of(Uploads.PRIOR, json));
        assertEquals(old, read);
        assertNull(read.precision());
        String fp64 = json.substring(0, json.lastIndexOf('}')) + ",\"precision\":\"fp64\"}";
        assertNull(Uploads.prior(Map.of(Uploads.PRIOR, fp64)), "an unknown precision is refused");
        assertEquals("bf16", Uploads.prior(Map.of(Uploads.PRIOR, fp64.replace("fp64", "bf16"))).precision());
    }
}
