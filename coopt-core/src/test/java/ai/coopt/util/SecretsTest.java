package ai.coopt.util;

import ai.coopt.collab.PriorReport;
import ai.coopt.store.ManifestProvenance;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The one redaction of what is recorded, and the manifest's created.command_line, which goes through it. */
class SecretsTest {
    private static final String PW = "hunter2-Xq9";

    @Test
    void urlPasswordsAreMaskedAndTheRestKept() {
        assertEquals("postgresql://db:5432/coopt?user=coopt&password=***",
                Secrets.redact("postgresql://db:5432/coopt?user=coopt&password=" + PW));
        assertEquals("postgresql://db/coopt?password=***&user=coopt&schema=s",
                Secrets.redact("postgresql://db/coopt?password=" + PW + "&user=coopt&schema=s"));
        assertEquals("jdbc:postgresql://h/d?PASSWORD=***", Secrets.redact("jdbc:postgresql://h/d?PASSWORD=" + PW));
        assertEquals("https://alice:***@host:8470/x", Secrets.redact("https://alice:" + PW + "@host:8470/x"));
        assertEquals("postgresql://coopt:***@db/coopt", Secrets.redact("postgresql://coopt:" + PW + "@db/coopt"));
        assertEquals("x?api_token=***&secret=***", Secrets.redact("x?api_token=abc&secret=def"));
        for (String kept : List.of("https://host:8470/v1/status", "sqlite:/tmp/p/platform.db", "fashion-mnist",
                "model:/home/alice/priors/x", "postgresql://db:5432/coopt?user=coopt")) {
            assertEquals(kept, Secrets.redact(kept));
        }
    }

    @Test
    void secretOptionValuesAreMaskedInEitherForm() {
        List<String> line = List.of("coopt", "platform", "serve", "--db", "postgresql://db/c?user=u&password=" + PW,
                "--db-password", PW, "--key-password=" + PW, "--token", PW, "--invite", PW, "--client-secret=" + PW,
                "--tls-password-file", "/etc/pass.txt", "--db-password-file=/etc/db.txt", "--data", "fashion-mnist");
        List<String> recorded = Secrets.commandLine(line);
        assertEquals(List.of("coopt", "platform", "serve", "--db", "postgresql://db/c?user=u&password=***",
                "--db-password", "***", "--key-password=***", "--token", "***", "--invite", "***", "--client-secret=***",
                "--tls-password-file", "/etc/pass.txt", "--db-password-file=/etc/db.txt", "--data", "fashion-mnist"),
                recorded);
        assertFalse(String.join(" ", recorded).contains(PW));
    }

    /** Every manifest (optimize, collab, data pack, the platform's fusion) records its command line through it. */
    @Test
    void theManifestsCreatedRecordsNoSecret() {
        ManifestProvenance.Created c = new ManifestProvenance.Created(Instant.EPOCH, "test",
                List.of("coopt", "platform", "serve", "--db", "postgresql://db/c?user=u&password=" + PW), 0);
        assertFalse(c.commandLine().toString().contains(PW), c.commandLine().toString());
        assertEquals("postgresql://db/c?user=u&password=***", c.commandLine().get(4));
    }

    @Test
    void priorsArePublishedWithoutLocalPaths() {
        assertEquals("model:x", PriorReport.publicSpec("model:/home/alice/priors/x"));
        assertEquals("model:x", PriorReport.publicSpec("model:/home/alice/priors/x/"));
        assertEquals("model:x", PriorReport.publicSpec("/home/alice/priors/x"));
        assertEquals("model:x", PriorReport.publicSpec("priors/x"));
        assertEquals("model:x", PriorReport.publicSpec("C:\\Users\\alice\\x"));
        assertEquals("torchscript:net.pt#embed", PriorReport.publicSpec("torchscript:/srv/m/net.pt#embed"));
        assertEquals("onnx:net.onnx", PriorReport.publicSpec("onnx:/srv/m/net.onnx"));
        assertEquals("zoo:resnet-s-byol-90s", PriorReport.publicSpec("zoo:resnet-s-byol-90s"));
        assertEquals("random:convnet-s:3", PriorReport.publicSpec("random:convnet-s:3"));
    }
}
