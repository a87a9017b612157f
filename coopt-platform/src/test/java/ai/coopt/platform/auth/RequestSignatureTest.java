package ai.coopt.platform.auth;

import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Redemption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequestSignatureTest {

    @TempDir
    Path dir;

    private static final long NOW = 1_700_000_000_000L;
    private static final String BODY_SHA = Sha256.hex("{\"shard\":3}".getBytes(StandardCharsets.UTF_8));

    private KeyFile key() {
        return KeyFile.create(dir.resolve("k" + System.nanoTime() + ".pem"));
    }

    private static RequestSignature.SignedHeaders parsed(Map<String, String> headers) {
        return assertInstanceOf(RequestSignature.SignedHeaders.class, RequestSignature.parse(headers::get));
    }

    @Test
    void aSignedRequestVerifies() {
        KeyFile key = key();
        Map<String, String> headers = RequestSignature.sign(key.participantId(), key.privateKey(), "POST", "/v1/uploads/3?lease=abc", NOW, BODY_SHA);
        assertEquals(key.participantId(), headers.get(RequestSignature.PARTICIPANT));
        assertEquals(Long.toString(NOW), headers.get(RequestSignature.TIMESTAMP));
        assertEquals(BODY_SHA, headers.get(RequestSignature.CONTENT_SHA256));
        assertEquals(64, Base64.getDecoder().decode(headers.get(RequestSignature.SIGNATURE)).length);

        RequestSignature verifier = new RequestSignature();
        RequestSignature.SignedHeaders h = parsed(headers);
        assertEquals(Optional.empty(), verifier.verify(key.rawPublicKey(), h, "POST", "/v1/uploads/3?lease=abc", NOW + 59_000));
        assertEquals(Optional.empty(), verifier.verify(key.rawPublicKey(), h, "POST", "/v1/uploads/3?lease=abc", NOW - 59_000));
        assertEquals(Optional.empty(), RequestSignature.checkBody(h, BODY_SHA));
        assertTrue(RequestSignature.checkBody(h, Sha256.EMPTY).orElseThrow().contains(RequestSignature.CONTENT_SHA256));

        Map<String, String> empty = RequestSignature.sign(key.participantId(), key.privateKey(), "GET", "/v1/lease", NOW, Sha256.EMPTY);
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256.EMPTY);
        assertEquals(Optional.empty(), verifier.verify(key.rawPublicKey(), parsed(empty), "GET", "/v1/lease", NOW));
    }

    @Test
    void everyTamperedPartIsRefused() {
        KeyFile key = key();
        RequestSignature verifier = new RequestSignature();
        Map<String, String> headers = RequestSignature.sign(key.participantId(), key.privateKey(), "POST", "/v1/uploads/3", NOW, BODY_SHA);
        RequestSignature.SignedHeaders h = parsed(headers);

        assertEquals(Optional.of("bad signature"), verifier.verify(key.rawPublicKey(), h, "PUT", "/v1/uploads/3", NOW), "method");
        assertEquals(Optional.of("bad signature"), verifier.verify(key.rawPublicKey(), h, "POST", "/v1/uploads/4", NOW), "path");
        assertEquals(Optional.of("bad signature"), verifier.verify(key.rawPublicKey(), h, "POST", "/v1/uploads/3?x=1", NOW), "query");

        Map<String, String> later = new HashMap<>(headers);
        later.put(RequestSignature.TIMESTAMP, Long.toString(NOW + 1));
        assertEquals(Optional.of("bad signature"), verifier.verify(key.rawPublicKey(), parsed(later), "POST", "/v1/uploads/3", NOW), "timestamp");

        Map<String, String> otherBody = new HashMap<>(headers);
        otherBody.put(RequestSignature.CONTENT_SHA256, Sha256.EMPTY);
        assertEquals(Optional.of("bad signature"), verifier.verify(key.rawPublicKey(), parsed(otherBody), "POST", "/v1/uploads/3", NOW), "body hash");

        byte[] sig = Base64.getDecoder().decode(headers.get(RequestSignature.SIGNATURE));
        sig[10] ^= 1;
        Map<String, String> flipped = new HashMap<>(headers);
        flipped.put(RequestSignature.SIGNATURE, Base64.getEncoder().encodeToString(sig));
        assertEquals(Optional.of("bad signature"), verifier.verify(key.rawPublicKey(), parsed(flipped), "POST", "/v1/uploads/3", NOW), "signature");

        KeyFile other = key();
        assertEquals(Optional.of("bad signature"), verifier.verify(other.rawPublicKey(), h, "POST", "/v1/uploads/3", NOW), "another key");
        assertTrue(verifier.verify(new byte[31], h, "POST", "/v1/uploads/3", NOW).orElseThrow().contains("32 bytes"), "short key");
        assertTrue(verifier.verify(new byte[33], h, "POST", "/v1/uploads/3", NOW).orElseThrow().contains("32 bytes"), "long key");
        assertTrue(verifier.verify(key.rawPublicKey(), h, "post", "/v1/uploads/3", NOW).isPresent());
        assertTrue(verifier.verify(key.rawPublicKey(), h, "POST", "v1/uploads/3", NOW).isPresent());
        assertTrue(verifier.verify(key.rawPublicKey(), h, "POST", "/v1/up loads", NOW).isPresent());
    }

    @Test
    void timestampsOutsideTheWindowAreRefused() {
        KeyFile key = key();
        RequestSignature.SignedHeaders h = parsed(RequestSignature.sign(key.participantId(), key.privateKey(), "GET", "/v1/lease", NOW, Sha256.EMPTY));
        String old = new RequestSignature().verify(key.rawPublicKey(), h, "GET", "/v1/lease", NOW + 60_001).orElseThrow();
        assertTrue(old.contains("window"), old);
        String ahead = new RequestSignature().verify(key.rawPublicKey(), h, "GET", "/v1/lease", NOW - 61_000).orElseThrow();
        assertTrue(ahead.contains("ahead"), ahead);
        RequestSignature narrow = new RequestSignature(5_000);
        assertTrue(narrow.verify(key.rawPublicKey(), h, "GET", "/v1/lease", NOW + 5_001).isPresent());
        assertEquals(Optional.empty(), narrow.verify(key.rawPublicKey(), h, "GET", "/v1/lease", NOW + 5_000));
        assertThrows(IllegalArgumentException.class, () -> new RequestSignature(0));
    }

    @Test
    void malformedHeadersAreRefusalsNotExceptions() {
        KeyFile key = key();
        Map<String, String> good = RequestSignature.sign(key.participantId(), key.privateKey(), "GET", "/v1/lease", NOW, Sha256.EMPTY);
        String[][] edits = {
            {RequestSignature.PARTICIPANT, null}, {RequestSignature.TIMESTAMP, null}, {RequestSignature.CONTENT_SHA256, null},
            {RequestSignature.SIGNATURE, null}, {RequestSignature.SIGNATURE, ""},
            {RequestSignature.PARTICIPANT, "p-XYZ"}, {RequestSignature.PARTICIPANT, "p-" + "0".repeat(100_000)},
            {RequestSignature.TIMESTAMP, "-5"}, {RequestSignature.TIMESTAMP, "12.5"}, {RequestSignature.TIMESTAMP, "9".repeat(40)},
            {RequestSignature.TIMESTAMP, "1e12"}, {RequestSignature.CONTENT_SHA256, Sha256.EMPTY.toUpperCase()},
            {RequestSignature.CONTENT_SHA256, "abc"}, {RequestSignature.SIGNATURE, "not base64 at all!"},
            {RequestSignature.SIGNATURE, Base64.getEncoder().encodeToString(new byte[63])},
            {RequestSignature.SIGNATURE, Base64.getEncoder().encodeToString(new byte[65])},
            {RequestSignature.SIGNATURE, "A".repeat(1 << 20)},
        };
        for (String[] edit : edits) {
            Map<String, String> headers = new HashMap<>(good);
            headers.put(edit[0], edit[1]);
            RequestSignature.Parsed p = RequestSignature.parse(headers::get);
            RequestSignature.Refused refused = assertInstanceOf(RequestSignature.Refused.class, p, edit[0] + "=" + edit[1]);
            assertFalse(refused.reason().isBlank());
            assertTrue(refused.reason().length() < 200, refused.reason());
        }
        assertTrue(((RequestSignature.Refused) RequestSignature.parse(h -> null)).reason().startsWith("unsigned request"));
    }

    @Test
    void replaysAreRefusedThroughTheStore() {
        try (Database db = Database.open("sqlite:" + dir.resolve("platform.db"))) {
            PlatformStore store = new PlatformStore(db);
            KeyFile key = key();
            String token = store.participants().createInvite("alice", NOW, 60_000);
            assertInstanceOf(Redemption.Enrolled.class, store.participants().redeemInvite(token, key.publicKeyBase64(), NOW));
            byte[] stored = Ed25519Keys.decodeRawPublicKey(store.participants().get(key.participantId()).orElseThrow().publicKey());

            RequestSignature verifier = new RequestSignature();
            Map<String, String> headers = RequestSignature.sign(key.participantId(), key.privateKey(), "POST", "/v1/lease", NOW, Sha256.EMPTY);
            RequestSignature.SignedHeaders h = parsed(headers);
            assertEquals(Optional.empty(), verifier.verify(stored, h, "POST", "/v1/lease", NOW + 10));
            String replayKey = h.replayKey("POST", "/v1/lease");
            assertTrue(store.signatures().record(h.participantId(), replayKey, h.timestamp(), NOW + 10, verifier.windowMillis()));

            RequestSignature.SignedHeaders again = parsed(new HashMap<>(headers));
            assertEquals(Optional.empty(), verifier.verify(stored, again, "POST", "/v1/lease", NOW + 20), "the replay is authentic");
            assertFalse(store.signatures().record(again.participantId(), again.replayKey("POST", "/v1/lease"), again.timestamp(), NOW + 20,
                    verifier.windowMillis()), "but seen before");

            Map<String, String> next = RequestSignature.sign(key.participantId(), key.privateKey(), "POST", "/v1/lease", NOW + 1, Sha256.EMPTY);
            RequestSignature.SignedHeaders n = parsed(next);
            assertTrue(store.signatures().record(n.participantId(), n.replayKey("POST", "/v1/lease"), n.timestamp(), NOW + 30, verifier.windowMillis()),
                    "the same request a millisecond later is a new request");
        }
    }
}
