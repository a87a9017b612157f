package ai.coopt.platform.api;

import ai.coopt.UserException;
import ai.coopt.store.Json;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client reads the server's records as the server writes them, and tolerates what a newer server adds. */
class WireTest {
    @Test
    void aLeaseRoundTripsThroughTheServersMapper() {
        LeaseView granted = new LeaseView("granted", 3, new long[] {4, 9}, "tok", 1234L, "ab", 2, null);
        LeaseView read = Wire.read(Json.mapper().valueToTree(granted), LeaseView.class, "a lease");
        assertEquals(3, read.shard());
        assertArrayEquals(new long[] {4, 9}, read.ids());
        assertEquals(1234L, read.expiresAt());
        assertNull(read.waitMs());
    }

    @Test
    void fieldsANewerServerAddsOrLeavesOutDoNotBreakTheClient() throws Exception {
        LeaseView wait = Wire.read(Json.mapper().readTree("{\"state\":\"wait\",\"wait_ms\":500,\"hint\":\"new\"}"),
                LeaseView.class, "a lease");
        assertEquals("wait", wait.state());
        assertEquals(500L, wait.waitMs());
        assertNull(wait.shard());
    }

    @Test
    void anAnswerOfTheWrongShapeIsOneLineNamingTheRoute() throws Exception {
        UserException e = assertThrows(UserException.class, () -> Wire.read(
                Json.mapper().readTree("{\"audits\":\"none\"}"), Audits.class, "POST /v1/audits"));
        assertTrue(e.getMessage().startsWith("the platform's answer to POST /v1/audits does not fit Audits"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
