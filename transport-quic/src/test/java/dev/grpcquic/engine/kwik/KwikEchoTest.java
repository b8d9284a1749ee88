package dev.grpcquic.engine.kwik;

import dev.grpcquic.engine.EngineTestSupport;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class KwikEchoTest {

  @Test
  @Timeout(30)
  void echoOnOneStream() throws Exception {
    try (KwikServerEndpoint server =
        KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
            EngineTestSupport.acceptor(EngineTestSupport::echo))) {
      EngineTestSupport.ClientHandler clientHandler = new EngineTestSupport.ClientHandler();
      QuicConnection connection = EngineTestSupport.connect(new KwikClientEngine(),
          server.localAddress(), clientHandler);
      assertTrue(connection.isOpen());

      // Not re-requesting: the recorder keeps the bytes and needs no stream reference.
      EngineTestSupport.Recorder recorder = new EngineTestSupport.Recorder(null, false);
      QuicStream echoed = connection.openStream(true, recorder).get(10, TimeUnit.SECONDS);
      byte[] message = "hello over kwik".getBytes(StandardCharsets.US_ASCII);
      echoed.request(1024);
      echoed.write(ByteBuffer.wrap(message.clone()), true);
      recorder.endOfStream.get(10, TimeUnit.SECONDS);
      assertArrayEquals(message, recorder.bytes());
      assertEquals(message.length, recorder.written.get());
      assertEquals(0, echoed.queuedBytes());
      assertEquals(0, recorder.overlaps.get());

      connection.close(0x100, "done");
      assertEquals(0x100, clientHandler.closed.get(10, TimeUnit.SECONDS).applicationErrorCode());
      assertTrue(!connection.isOpen());
    }
  }
}
