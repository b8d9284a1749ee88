package dev.grpcquic.interop.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.ManagedChannel;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import dev.grpcquic.QuicChannelBuilder;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A plain HTTP/3 client that is not gRPC: ngtcp2's gtlsclient (Debian package ngtcp2-client;
 * GnuTLS, nghttp3) sends a GET to our server. It must get an HTTP error response and exit; the
 * server must go on serving gRPC on other connections.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GtlsclientTest {
  private static final String BINARY = "/usr/bin/gtlsclient";

  @Test
  void getFromNgtcp2GetsHttpErrorAndServerKeepsServing() throws Exception {
    assumeTrue(new File(BINARY).canExecute(),
        BINARY + " is absent: install the Debian package ngtcp2-client to run this test");
    try (OurServer server = new OurServer()) {
      int port = server.address().getPort();
      Path out = Files.createTempFile("gtlsclient", ".log");
      try {
        // gtlsclient does not verify the server certificate (no CA option); ALPN is h3.
        // --sni: the certificate's DNS name; --exit-on-all-streams-close: exit after the response.
        Process p = new ProcessBuilder(List.of(BINARY, "--exit-on-all-streams-close",
            "--timeout=10s", "--sni=localhost", "127.0.0.1", String.valueOf(port),
            "https://localhost:" + port + "/"))
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
        long t0 = System.nanoTime();
        boolean exited = p.waitFor(30, TimeUnit.SECONDS);
        System.out.println("gtlsclient ran " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        if (!exited) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        String log = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(exited, "gtlsclient hung (no response?):\n" + tail(log));
        Matcher status = Pattern.compile("\\[:status: (\\d+)\\]").matcher(log);
        assertTrue(status.find(), "no :status in gtlsclient's output:\n" + tail(log));
        int code = Integer.parseInt(status.group(1));
        System.out.println("gtlsclient exit " + p.exitValue() + ", :status " + code + "; "
            + (log.contains("closed with error code") ? log.replaceAll("(?s).*(HTTP stream \\d+ "
            + "closed with error code \\d+).*", "$1") : "stream closed without error code"));
        assertTrue(code >= 400 && code < 600, "expected an HTTP error, got " + code);
        assertEquals(0, p.exitValue(), "gtlsclient exit code:\n" + tail(log));
      } finally {
        Files.deleteIfExists(out);
      }

      ManagedChannel channel = QuicChannelBuilder.forAddress("127.0.0.1", port)
          .engine(TestEngines.ours())
          .overrideAuthority("localhost")
          .trustCertificates(PeerCerts.ca())
          .build();
      try {
        assertEquals("after gtlsclient", SimpleServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .unaryRpc(SimpleRequest.newBuilder().setRequestMessage("after gtlsclient").build())
            .getResponseMessage());
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  private static String tail(String log) {
    return log.length() <= 4000 ? log : log.substring(log.length() - 4000);
  }
}
