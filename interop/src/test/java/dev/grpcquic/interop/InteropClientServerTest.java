package dev.grpcquic.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The interop commands in-process: InteropServer on a free port, InteropClient's cases at it. */
@Timeout(240)
class InteropClientServerTest {
  private Path certDir;

  @BeforeEach
  void certDir() throws Exception {
    certDir = Files.createTempDirectory("interop-cmd-test");
  }

  @AfterEach
  void deleteCertDir() throws Exception {
    try (Stream<Path> files = Files.walk(certDir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }

  @Test
  void allCasesPassOverQuic() throws Exception {
    assertAllPass("quic");
  }

  @Test
  void allCasesPassOverNettyTls() throws Exception {
    assertAllPass("netty_tls");
  }

  @Test
  void allCasesPassAutoAgainstDual() throws Exception {
    String report = assertAllPass("dual", "auto");
    assertTrue(report.contains("h3"), "QUIC carried calls: " + report);
  }

  @Test
  void allCasesPassAutoAgainstQuicOnly() throws Exception {
    String report = assertAllPass("quic", "auto");
    assertTrue(!report.contains("h2"), "QUIC carried every call: " + report);
  }

  @Test
  void allCasesPassAutoAgainstNettyTls() throws Exception {
    String report = assertAllPass("netty_tls", "auto");
    assertTrue(!report.contains("h3"), "TCP carried every call: " + report);
  }

  @Test
  void allCasesPassOverQuicAgainstDual() throws Exception {
    assertAllPass("dual", "quic");
  }

  private void assertAllPass(String transport) throws Exception {
    assertAllPass(transport, transport);
  }

  private String assertAllPass(String serverTransport, String transport) throws Exception {
    try (InteropServer server = InteropServer.start("--transport=" + serverTransport,
        "--address=127.0.0.1", "--port=0", "--cert_dir=" + certDir)) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
      InteropClient.Result result = InteropClient.run(out, "--transport=" + transport,
          "--server_host=127.0.0.1", "--server_port=" + server.port(),
          "--ca_file=" + server.caFile(), "--server_host_override=localhost",
          "--test_case=all");
      String report = bytes.toString(StandardCharsets.UTF_8);
      System.out.println(report);
      assertEquals(InteropClient.CASES.size(), result.passed(), report);
      assertEquals(0, result.failed(), report);
      assertTrue(report.endsWith(InteropClient.CASES.size() + " passed, 0 failed"
          + System.lineSeparator()), report);
      return report;
    }
  }

  @Test
  void unknownCaseIsACommandLineError() {
    assertThrows(IllegalArgumentException.class, () -> InteropClient.run(
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        "--server_port=1", "--test_case=no_such_case"));
  }
}
