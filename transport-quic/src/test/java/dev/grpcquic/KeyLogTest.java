package dev.grpcquic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.QpackDecoder;
import dev.grpcquic.testing.LogCapture;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS key log: written only when asked for, in a format tshark reads, and never echoed into a
 * log. The capture test needs tshark (Debian package tshark) and the right to capture on the
 * loopback interface; without either it is skipped and says why.
 */
@Timeout(120)
class KeyLogTest {
  private static final String ECHO_PATH = "/" + TestService.ECHO.getFullMethodName();

  @TempDir Path dir;

  @Test
  void tsharkDecodesTheHeadersOfACallWithTheKeyLog() throws Exception {
    assumeTrue(onPath("tshark"), "tshark is not installed (apt-get install tshark)");
    Path keyLog = dir.resolve("keys.log");
    Path capture = dir.resolve("capture.pcapng");
    try (QuicTestServer server = new QuicTestServer();
        DatagramSocket marker = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      int markerPort = marker.getLocalPort();
      Process tshark = new ProcessBuilder("tshark", "-i", "lo", "-l", "-P", "-n",
          "-f", "udp port " + server.port() + " or udp port " + markerPort,
          "-w", capture.toString())
          .redirectError(dir.resolve("tshark.err").toFile())
          .start();
      try {
        PacketWatch watch = new PacketWatch(tshark);
        // The capture runs once a marker datagram shows up in tshark's summary: the QUIC Initial
        // packets, which tshark needs to follow the connection, will be in it.
        assumeTrue(watch.awaitMarker(marker, markerPort, 1),
            "tshark cannot capture on lo: " + Files.readString(dir.resolve("tshark.err")));

        ManagedChannel channel = server.track(server.channelBuilder().keyLogFile(keyLog).build());
        byte[] reply = ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
            CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[] {1, 2, 3});
        assertEquals(3, reply.length);
        channel.shutdown();
        assertTrue(channel.awaitTermination(20, TimeUnit.SECONDS));
        // A second marker after the call: everything before it is in the capture.
        assertTrue(watch.awaitMarker(marker, markerPort, 2), "tshark stopped capturing");
      } finally {
        tshark.destroy();
        tshark.waitFor(20, TimeUnit.SECONDS);
      }
    }

    List<String> keys = Files.readAllLines(keyLog);
    assertTrue(keys.stream().anyMatch(l -> l.startsWith("CLIENT_TRAFFIC_SECRET_0 ")), keys.toString());
    assertTrue(keys.stream().anyMatch(l -> l.startsWith("SERVER_HANDSHAKE_TRAFFIC_SECRET ")));
    if (Files.getFileStore(keyLog).supportsFileAttributeView("posix")) {
      assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
          Files.getPosixFilePermissions(keyLog));
    }

    // Without the keys, tshark sees no HTTP/3 at all; with them it finds the request's HEADERS
    // frame, whose QPACK field section (static table and literals) carries the :path.
    assertEquals(List.of(), headersFrames(capture, null));
    List<String> frames = headersFrames(capture, keyLog);
    List<String> paths = new ArrayList<>();
    for (String hex : frames) {
      for (Header header : new QpackDecoder().decode(HexFormat.of().parseHex(hex))) {
        if (header.name().equals(":path")) {
          paths.add(header.value());
        }
      }
    }
    assertEquals(List.of(ECHO_PATH), paths, () -> "HEADERS frames seen by tshark: " + frames
        + "; the capture as tshark decodes it with the keys:\n" + decoded(capture, keyLog));
  }

  @Test
  void noKeyLogUnlessAskedAndSecretsNeverReachTheLogs() throws Exception {
    Path keyLog = dir.resolve("keys.log");
    LogCapture capture = new LogCapture("dev.grpcquic", Level.ALL);
    try (QuicTestServer server = new QuicTestServer()) {
      ManagedChannel plain = server.channel();
      ClientCalls.blockingUnaryCall(plain, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[1]);
      try (var files = Files.list(dir)) {
        assertEquals(List.of(), files.collect(Collectors.toList()), "a key log nobody asked for");
      }

      ManagedChannel logging = server.track(server.channelBuilder().keyLogFile(keyLog).build());
      ClientCalls.blockingUnaryCall(logging, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[1]);
    } finally {
      capture.close();
    }
    List<String> logged = capture.lines();
    List<String> secrets = Files.readAllLines(keyLog).stream()
        .map(line -> line.substring(line.lastIndexOf(' ') + 1).toLowerCase())
        .collect(Collectors.toList());
    assertFalse(secrets.isEmpty());
    assertTrue(logged.stream().anyMatch(l -> l.contains("TLS key log enabled")),
        "the channel warns that it writes a key log");
    for (String line : logged) {
      String lower = line.toLowerCase();
      for (String secret : secrets) {
        assertFalse(lower.contains(secret), "a TLS secret in the log: " + line);
      }
    }
  }

  /** The payloads (hex) of the HEADERS frames tshark finds in the capture. */
  /** For a failure message: one line per packet, with what tshark decrypted of it. */
  private static String decoded(Path capture, Path keyLog) {
    try {
      Process p = new ProcessBuilder("tshark", "-n", "-r", capture.toString(),
          "-o", "tls.keylog_file:" + keyLog, "-T", "fields", "-e", "frame.number",
          "-e", "frame.time_relative", "-e", "udp.srcport", "-e", "udp.length",
          "-e", "quic.long.packet_type", "-e", "quic.frame_type", "-e", "_ws.expert.message")
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      p.waitFor(60, TimeUnit.SECONDS);
      return out.length() > 20_000 ? out.substring(0, 20_000) + "..." : out;
    } catch (IOException | InterruptedException e) {
      return "(tshark failed: " + e + ")";
    }
  }

  private List<String> headersFrames(Path capture, Path keyLog) throws Exception {
    List<String> command = new ArrayList<>(List.of("tshark", "-n", "-r", capture.toString()));
    if (keyLog != null) {
      command.addAll(List.of("-o", "tls.keylog_file:" + keyLog));
    }
    command.addAll(List.of("-Y", "http3.frame_type == 1", "-T", "fields",
        "-e", "http3.frame_type", "-e", "http3.frame_payload"));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "tshark -r did not finish");
    List<String> payloads = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      // One line per packet: frame types and payloads of all HTTP/3 frames in it, comma separated.
      String[] columns = line.split("\t", -1);
      String[] types = columns[0].split(",");
      String[] bodies = columns.length > 1 ? columns[1].split(",") : new String[0];
      for (int i = 0; i < types.length && i < bodies.length; i++) {
        if (types[i].equals("1") || types[i].equals("0x01") || types[i].equals("0x00000001")) {
          String hex = bodies[i].replace(":", "");
          // The request's HEADERS frame is the one with a :path; the responses' frames have none.
          payloads.add(hex);
        }
      }
    }
    return payloads;
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String d : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(d, program))) {
        return true;
      }
    }
    return false;
  }

  /** Reads tshark's packet summaries (-P) and waits for marker datagrams in them. */
  private static final class PacketWatch {
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final Object changed = new Object();

    PacketWatch(Process tshark) {
      Thread reader = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(
            new InputStreamReader(tshark.getInputStream(), StandardCharsets.US_ASCII))) {
          String line;
          while ((line = in.readLine()) != null) {
            lines.add(line);
            synchronized (changed) {
              changed.notifyAll();
            }
          }
        } catch (IOException e) {
          // tshark ended
        } finally {
          ended.complete(null);
          synchronized (changed) {
            changed.notifyAll();
          }
        }
      }, "tshark-summary");
      reader.setDaemon(true);
      reader.start();
    }

    /**
     * Sends datagrams of {@code size} bytes to the marker port until tshark reports one (at most
     * 30 s); false if tshark ends first.
     */
    boolean awaitMarker(DatagramSocket marker, int port, int size) throws Exception {
      String tag = "Len=" + size;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        marker.send(new DatagramPacket(new byte[size], size,
            new InetSocketAddress("127.0.0.1", port)));
        synchronized (changed) {
          if (lines.stream().anyMatch(l -> l.contains(" " + port + " ") && l.endsWith(tag))) {
            return true;
          }
          if (ended.isDone()) {
            return false;
          }
          changed.wait(200); // resend in case the capture had not started yet
        }
      }
      throw new TimeoutException("tshark did not report a marker datagram in 30 s: " + lines);
    }
  }
}
