package ai.coopt.platform;

import ai.coopt.data.ImageSet;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.platform.server.PlatformServer;
import ai.coopt.platform.server.PlatformService;
import ai.coopt.util.ProgressListener;

import java.nio.file.Path;

/** A platform serving on loopback in the test's JVM: database, service and server, closed together. */
public record TestPlatform(Database db, PlatformStore store, PlatformService service, PlatformServer server)
        implements AutoCloseable {
    /** Starts a new round in {@code tmp/platform} on the database {@code dbUrl}; {@code tls} null for plain HTTP. */
    public static TestPlatform start(String dbUrl, Path tmp, PlatformConfig config, ImageSet images,
                                     PlatformServer.Tls tls) {
        Database db = Database.open(dbUrl);
        PlatformStore store = new PlatformStore(db);
        PlatformService service = PlatformService.open(tmp.resolve("platform"), store, config, images,
                System::currentTimeMillis, ProgressListener.NONE);
        return new TestPlatform(db, store, service,
                PlatformServer.start(service, System::currentTimeMillis, "test", "127.0.0.1", 0, tls));
    }

    public String url() {
        return server.url("127.0.0.1");
    }

    @Override
    public void close() {
        server.close();
        service.close();
        db.close();
    }
}
