package ai.coopt.platform.http;

import io.javalin.Javalin;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Javalin starts on loopback beside the project's Jackson and slf4j, serves JSON, and stops. */
class JavalinTest {

    @Test
    void servesJsonOnLoopback() throws Exception {
        Javalin app = Javalin.create(config -> config.routes.get("/health", ctx -> ctx.json(Map.of("ok", true, "shards", 3))));
        try {
            app.start("127.0.0.1", 0);
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> response = client.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + "/health")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals("application/json", response.headers().firstValue("Content-Type").orElse("").split(";")[0]);
            assertEquals(Map.of("ok", true, "shards", 3), new com.fasterxml.jackson.databind.ObjectMapper().readValue(response.body(), Map.class));
            HttpResponse<String> missing = client.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + "/nothing")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, missing.statusCode());
        } finally {
            app.stop();
        }
    }
}
