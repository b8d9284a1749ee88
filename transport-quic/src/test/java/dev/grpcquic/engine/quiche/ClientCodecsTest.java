package dev.grpcquic.engine.quiche;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.EngineTestSupport;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicServerEndpoint;
import dev.grpcquic.engine.QuicStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A quiche client connection takes a codec built ahead of it, of its own parameters; the first
 * of each set of parameters builds its own, and at most {@link ClientCodecs#MAX_SPARES} wait.
 * (Each test class runs in a JVM of its own: the counts start at zero.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClientCodecsTest {

  @BeforeAll
  static void quicheLoads() {
    Assumptions.assumeTrue(QuicheAvailability.unavailableReason() == null,
        QuicheAvailability::unavailableReason);
  }

  @Test
  void connectionsTakeCodecsBuiltAheadOfThem() throws Exception {
    QuicheClientEngine client = new QuicheClientEngine(QuicheSettings.DEFAULT);
    try (QuicServerEndpoint server = new QuicheServerEngine(QuicheSettings.DEFAULT).bind(
        EngineTestSupport.serverOptions(), EngineTestSupport.acceptor(EngineTestSupport::echo))) {
      long before = ClientCodecs.builtAtConnect();
      ClientConnectionOptions options = EngineTestSupport.clientOptions(server.localAddress());
      echo(client, options, 1);
      assertEquals(before + 1, ClientCodecs.builtAtConnect(), "the first builds its own");
      for (int i = 2; i <= 4; i++) {
        assertTrue(EngineTestSupport.eventually(() -> ClientCodecs.spares() == 1, 20_000),
            "a spare is built after connection " + (i - 1));
        echo(client, options, i);
        assertEquals(before + 1, ClientCodecs.builtAtConnect(),
            "connection " + i + " took the spare");
      }

      // Other windows, other codecs: each first one builds its own; the spares stay bounded.
      for (int i = 1; i <= ClientCodecs.MAX_SPARES + 1; i++) {
        echo(client, EngineTestSupport.clientOptions(server.localAddress(),
            Duration.ofSeconds(30), (1 << 20) + i * 4096), 10 + i);
      }
      assertEquals(before + 2 + ClientCodecs.MAX_SPARES, ClientCodecs.builtAtConnect());
      assertTrue(EngineTestSupport.eventually(
          () -> ClientCodecs.spares() == ClientCodecs.MAX_SPARES, 20_000),
          ClientCodecs.spares() + " spares");
    }
  }

  /** One connection, one echoed byte on a stream, closed. */
  private static void echo(QuicheClientEngine engine, ClientConnectionOptions options, int value)
      throws Exception {
    EngineTestSupport.ClientHandler handler = new EngineTestSupport.ClientHandler();
    QuicConnection connection = engine.connect(options, handler).get(15, TimeUnit.SECONDS);
    EngineTestSupport.Recorder recorder = new EngineTestSupport.Recorder(null, false);
    QuicStream stream = connection.openStream(true, recorder).get(10, TimeUnit.SECONDS);
    recorder.stream = stream;
    stream.request(10);
    stream.write(ByteBuffer.wrap(new byte[] {(byte) value}), true);
    recorder.endOfStream.get(10, TimeUnit.SECONDS);
    assertArrayEquals(new byte[] {(byte) value}, recorder.bytes());
    connection.close(0x100, "");
    handler.closed.get(10, TimeUnit.SECONDS);
  }
}
