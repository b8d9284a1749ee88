package dev.grpcquic.engine.quiche;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grpcquic.engine.EngineTestSupport;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicServerEndpoint;
import dev.grpcquic.engine.QuicStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The quiche engine's sockets are of the kind {@link DatagramIo} chose: epoll (with GSO) on
 * Linux x86-64, where the test class path has Netty's native epoll, unless the run asks for NIO
 * (the kwik run of this module does: each kind is tested). A silent fall back to NIO would keep
 * every other test green and lose GSO.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DatagramIoTest {

  @BeforeAll
  static void quicheLoads() {
    Assumptions.assumeTrue(QuicheAvailability.unavailableReason() == null,
        QuicheAvailability::unavailableReason);
  }

  @Test
  void socketsAreOfTheChosenKindAndCarryABulkStream() throws Exception {
    DatagramIo expected = "nio".equals(System.getProperty("grpcquic.quiche.io"))
        || !System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux")
        || !System.getProperty("os.arch").equals("amd64") ? DatagramIo.NIO : DatagramIo.EPOLL;
    assertEquals(expected, DatagramIo.chosen(), () -> EpollSupport.unavailability());

    try (QuicServerEndpoint server = new QuicheServerEngine(QuicheSettings.DEFAULT).bind(
        EngineTestSupport.serverOptions(), EngineTestSupport.acceptor(EngineTestSupport::echo))) {
      EngineTestSupport.ClientHandler handler = new EngineTestSupport.ClientHandler();
      QuicConnection connection = new QuicheClientEngine(QuicheSettings.DEFAULT)
          .connect(EngineTestSupport.clientOptions(server.localAddress()), handler)
          .get(15, TimeUnit.SECONDS);
      assertEquals(expected.channelClass(),
          ((QuicheConnection) connection).channel().parent().getClass());

      // Large enough for quiche to hand over several full datagrams per send (GSO on epoll).
      byte[] sent = new byte[4 << 20];
      new Random(7).nextBytes(sent);
      EngineTestSupport.Recorder recorder = new EngineTestSupport.Recorder(null, false);
      QuicStream stream = connection.openStream(true, recorder).get(10, TimeUnit.SECONDS);
      recorder.stream = stream;
      stream.request(sent.length + 1);
      stream.write(ByteBuffer.wrap(sent), true);
      recorder.endOfStream.get(30, TimeUnit.SECONDS);
      assertArrayEquals(sent, recorder.bytes());
      connection.close(0x100, "");
      handler.closed.get(10, TimeUnit.SECONDS);
    }
  }
}
