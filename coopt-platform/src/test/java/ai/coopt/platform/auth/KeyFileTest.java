package ai.coopt.platform.auth;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyFileTest {

    @TempDir
    Path dir;

    @Test
    void aNewKeyFileIsPrivatePemAndReadsBack() throws Exception {
        Path file = dir.resolve("participant.key");
        KeyFile created = KeyFile.create(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        String pem = Files.readString(file);
        assertTrue(pem.startsWith("-----BEGIN PRIVATE KEY-----\n"), pem);
        assertTrue(pem.contains("-----BEGIN PUBLIC KEY-----\n"), pem);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left");
        }

        KeyFile read = KeyFile.read(file);
        assertArrayEquals(created.rawPublicKey(), read.rawPublicKey());
        assertArrayEquals(created.privateKey().getEncoded(), read.privateKey().getEncoded());
        assertEquals(32, read.rawPublicKey().length);
        assertEquals(created.participantId(), read.participantId());
        assertTrue(read.participantId().matches("p-[0-9a-f]{16}"), read.participantId());
        assertArrayEquals(read.rawPublicKey(), Ed25519Keys.decodeRawPublicKey(read.publicKeyBase64()));
        assertEquals(read.participantId(), Ed25519Keys.participantId(read.keyPair().getPublic()));
    }

    @Test
    void anExistingKeyIsNeverOverwritten() throws Exception {
        Path file = dir.resolve("k.pem");
        KeyFile first = KeyFile.create(file);
        byte[] before = Files.readAllBytes(file);
        UserException e = assertThrows(UserException.class, () -> KeyFile.create(file));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertArrayEquals(first.rawPublicKey(), KeyFile.read(file).rawPublicKey());

        Path dangling = dir.resolve("link.pem");
        Files.createSymbolicLink(dangling, dir.resolve("nowhere"));
        assertThrows(UserException.class, () -> KeyFile.create(dangling));
        assertFalse(Files.exists(dir.resolve("nowhere")));
        assertThrows(UserException.class, () -> KeyFile.create(dir.resolve("no/such/dir/k.pem")));
    }

    @Test
    void aKeyFileOthersCanReadIsRefused() throws Exception {
        Path file = dir.resolve("k.pem");
        KeyFile.create(file);
        for (String mode : new String[]{"rw-r--r--", "rw-r-----", "rw----r--", "rw--w----"}) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
            UserException e = assertThrows(UserException.class, () -> KeyFile.read(file), mode);
            assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        KeyFile.read(file);
    }

    @Test
    void malformedKeyFilesAreOneLineUserErrors() throws Exception {
        Path good = dir.resolve("good.pem");
        KeyFile.create(good);
        String pem = Files.readString(good);
        Path other = dir.resolve("other.pem");
        KeyFile.create(other);
        String otherPem = Files.readString(other);
        String mismatched = pem.substring(0, pem.indexOf("-----BEGIN PUBLIC KEY-----")) + otherPem.substring(otherPem.indexOf("-----BEGIN PUBLIC KEY-----"));

        String[] contents = {
            "", "hello", pem.replace("PRIVATE KEY", "RSA PRIVATE KEY"), pem.substring(0, pem.indexOf("-----BEGIN PUBLIC KEY-----")),
            pem.replaceFirst("\n[A-Za-z0-9+/]{8}", "\nAAAAAAAA"), pem.replaceFirst("\n[A-Za-z0-9+/]{4}", "\n!!!!"), mismatched,
            pem + pem, "x".repeat(20_000),
        };
        for (int i = 0; i < contents.length; i++) {
            Path bad = dir.resolve("bad" + i + ".pem");
            Files.writeString(bad, contents[i]);
            Files.setPosixFilePermissions(bad, PosixFilePermissions.fromString("rw-------"));
            UserException e = assertThrows(UserException.class, () -> KeyFile.read(bad), "case " + i);
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        }
        UserException missing = assertThrows(UserException.class, () -> KeyFile.read(dir.resolve("absent.pem")));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    }

    @Test
    void participantIdIsPrefixOfSha256OfTheRawKey() {
        byte[] raw = new byte[32];
        Arrays.fill(raw, (byte) 7);
        String hex = Sha256.hex(raw);
        assertEquals("p-" + hex.substring(0, 16), Ed25519Keys.participantId(raw));
        assertThrows(IllegalArgumentException.class, () -> Ed25519Keys.participantId(new byte[31]));
        assertArrayEquals(raw, Ed25519Keys.raw(Ed25519Keys.publicKey(raw)));
    }
}
