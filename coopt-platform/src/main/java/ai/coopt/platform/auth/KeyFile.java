package ai.coopt.platform.auth;

import ai.coopt.UserException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A participant's Ed25519 key pair in a file: PEM, the PKCS#8 private key ({@code PRIVATE KEY}) followed by the
 * X.509 public key ({@code PUBLIC KEY}), the forms OpenSSL reads too. The file is created with mode 0600
 * from its first byte (a temporary file in the same directory, made durable, then linked into place so an
 * existing key is never overwritten), and is refused on reading when group or others have any access to it.
 */
public final class KeyFile {

    private static final Set<PosixFilePermission> OWNER_ONLY =
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    private static final int MAX_FILE_BYTES = 16 * 1024;
    private static final Pattern PEM_BLOCK =
            Pattern.compile("-----BEGIN ([A-Z ]+)-----\\r?\\n([A-Za-z0-9+/=\\r\\n]+?)-----END \\1-----");

    private final Path path;
    private final KeyPair keyPair;

    private KeyFile(Path path, KeyPair keyPair) {
        this.path = path;
        this.keyPair = keyPair;
    }

    /** Generates a new key pair and writes it to {@code file}, which must not exist yet. */
    public static KeyFile create(Path file) {
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot generate Ed25519 keys", e);
        }
        Path target = file.toAbsolutePath().normalize();
        Path dir = target.getParent();
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new UserException("key file " + file + " already exists: refusing to overwrite a key (choose another --key path)");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new UserException("cannot create key file " + file + ": directory " + dir + " does not exist");
        }
        byte[] pem = pem(pair).getBytes(StandardCharsets.US_ASCII);
        Path temp = null;
        try {
            try {
                temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp",
                        PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (UnsupportedOperationException e) {
                throw new UserException("cannot create key file " + file + ": its file system has no POSIX permissions, so the key could not be kept private");
            }
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(pem);
                while (buffer.hasRemaining()) {
                    ch.write(buffer);
                }
                ch.force(true);
            }
            link(temp, target, file);
            forceDirectory(dir);
        } catch (IOException e) {
            throw new UserException("cannot write key file " + file + ": " + e.getMessage());
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a leftover temporary file is mode 0600 and holds nothing that is in use
                }
            }
        }
        return new KeyFile(target, pair);
    }

    /** Puts {@code temp} at {@code target} without ever replacing an existing file there. */
    private static void link(Path temp, Path target, Path shown) throws IOException {
        try {
            Files.createLink(target, temp);
        } catch (FileAlreadyExistsException e) {
            throw new UserException("key file " + shown + " already exists: refusing to overwrite a key (choose another --key path)");
        } catch (UnsupportedOperationException | FileSystemException e) {
            // no hard links on this file system: a plain move, which also refuses an existing target
            try {
                Files.move(temp, target);
            } catch (FileAlreadyExistsException exists) {
                throw new UserException("key file " + shown + " already exists: refusing to overwrite a key (choose another --key path)");
            }
        }
    }

    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // not every file system lets a directory be opened to sync it; the key file itself is synced
        }
    }

    private static String pem(KeyPair pair) {
        Base64.Encoder mime = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        return "-----BEGIN PRIVATE KEY-----\n" + mime.encodeToString(pair.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n"
                + "-----BEGIN PUBLIC KEY-----\n" + mime.encodeToString(pair.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
    }

    /**
     * Reads a key file written by {@link #create}. A missing, malformed or mismatched file, or one that group or
     * others can access, is a {@link UserException} with one line.
     */
    public static KeyFile read(Path file) {
        Set<PosixFilePermission> permissions;
        byte[] bytes;
        try {
            permissions = Files.getPosixFilePermissions(file);
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new UserException("key file " + file + " is not an Ed25519 key file (larger than " + MAX_FILE_BYTES + " bytes)");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserException("key file " + file + " does not exist");
        } catch (UnsupportedOperationException e) {
            throw new UserException("key file " + file + " is on a file system without POSIX permissions: cannot tell whether it is private");
        } catch (IOException e) {
            throw new UserException("cannot read key file " + file + ": " + e.getMessage());
        }
        if (!OWNER_ONLY.containsAll(permissions)) {
            throw new UserException("key file " + file + " is accessible by group or others (mode "
                    + PosixFilePermissions.toString(permissions) + "): run chmod 600 " + file);
        }
        String text = new String(bytes, StandardCharsets.US_ASCII);
        byte[] privateDer = block(text, "PRIVATE KEY", file);
        byte[] publicDer = block(text, "PUBLIC KEY", file);
        KeyPair pair;
        try {
            KeyFactory factory = KeyFactory.getInstance("Ed25519");
            PrivateKey privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(privateDer));
            PublicKey publicKey = factory.generatePublic(new X509EncodedKeySpec(publicDer));
            Ed25519Keys.raw(publicKey);
            pair = new KeyPair(publicKey, privateKey);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new UserException("key file " + file + " does not hold an Ed25519 key pair: " + firstLine(e));
        }
        if (!matches(pair)) {
            throw new UserException("key file " + file + ": its public key does not belong to its private key");
        }
        return new KeyFile(file.toAbsolutePath().normalize(), pair);
    }

    private static byte[] block(String text, String type, Path file) {
        Matcher m = PEM_BLOCK.matcher(text);
        byte[] found = null;
        while (m.find()) {
            if (m.group(1).equals(type)) {
                if (found != null) {
                    throw new UserException("key file " + file + " has more than one " + type + " block");
                }
                try {
                    found = Base64.getMimeDecoder().decode(m.group(2));
                } catch (IllegalArgumentException e) {
                    throw new UserException("key file " + file + ": its " + type + " block is not valid base64");
                }
            }
        }
        if (found == null) {
            throw new UserException("key file " + file + " is not an Ed25519 key file (no " + type + " block)");
        }
        return found;
    }

    /** Signs a probe with the private key and checks it with the public one. */
    private static boolean matches(KeyPair pair) {
        try {
            byte[] probe = "coopt key file check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance("Ed25519");
            signer.initSign(pair.getPrivate());
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(pair.getPublic());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String firstLine(Exception e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    /** Where the key lies. */
    public Path path() {
        return path;
    }

    /** The key pair. */
    public KeyPair keyPair() {
        return keyPair;
    }

    /** The private key, for {@link RequestSignature#sign}. */
    public PrivateKey privateKey() {
        return keyPair.getPrivate();
    }

    /** The raw 32-byte public key. */
    public byte[] rawPublicKey() {
        return Ed25519Keys.raw(keyPair.getPublic());
    }

    /** Base64 of the raw public key, as enrolment sends it. */
    public String publicKeyBase64() {
        return Ed25519Keys.base64(rawPublicKey());
    }

    /** The participant id this key enrolls as. */
    public String participantId() {
        return Ed25519Keys.participantId(rawPublicKey());
    }
}
