package dev.grpcquic.engine.kwik;

import dev.grpcquic.engine.BulkPeer;
import dev.grpcquic.engine.EngineTestSupport;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Large transfers both ways, repeated, sequential and concurrent: none may stall. kwik 0.10.8 loses
 * its send scheduling in a race (see {@link SendStallGuard}); without the guard these stall
 * (run {@link #withoutGuardStalls} with -Dkwik.stallDemo=true to see it).
 */
class KwikTransferTest {

  private static final Logger LOG = Logger.getLogger(KwikTransferTest.class.getName());
  static final long SIZE = 30L << 20;
  static final long CHECKSUM = EngineTestSupport.checksumOf(SIZE, BulkPeer.CHUNK);

  private static KwikServerEndpoint server;
  private static final BlockingQueue<BulkPeer> serverPeers = new LinkedBlockingQueue<>();
  private static QuicConnection connection;

  @BeforeAll
  static void start() throws Exception {
    server = KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(stream -> {
          BulkPeer peer = new BulkPeer(true, SIZE).bind(stream);
          serverPeers.add(peer);
          return peer;
        }));
    connection = EngineTestSupport.connect(new KwikClientEngine(),
        server.localAddress(), new EngineTestSupport.ClientHandler());
  }

  @AfterAll
  static void stop() {
    if (connection != null) {
      connection.close(0x100, "");
    }
    if (server != null) {
      server.close();
    }
    SendStallGuard.enabled = true;
  }

  private static Transfer startTransfer(boolean upload) throws Exception {
    Transfer transfer = new Transfer();
    transfer.start = System.nanoTime();
    BulkPeer client = new BulkPeer(false, 0);
    QuicStream stream = connection.openStream(true, client).get(10, TimeUnit.SECONDS);
    client.bind(stream);
    transfer.client = client;
    transfer.upload = upload;
    if (upload) {
      client.send(SIZE);
    } else {
      stream.write(ByteBuffer.wrap(new byte[] {'D'}), true);
    }
    return transfer;
  }

  static final class Transfer {
    long start;
    boolean upload;
    BulkPeer client;
    BulkPeer server;

    /** Waits; returns MiB/s. */
    double await(long timeoutSeconds) throws Exception {
      client.endOfStream.get(timeoutSeconds, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - start) / 1e9;
      if (upload) {
        assertEquals(SIZE, server.received.get());
        assertEquals(CHECKSUM, server.checksum.get());
      } else {
        assertEquals(SIZE, client.received.get());
        assertEquals(CHECKSUM, client.checksum.get());
      }
      assertEquals(0, client.overlaps.get());
      return SIZE / (1024.0 * 1024.0) / seconds;
    }
  }

  private static Transfer begin(boolean upload) throws Exception {
    Transfer t = startTransfer(upload);
    t.server = serverPeers.poll(10, TimeUnit.SECONDS);
    assertTrue(t.server != null, "server saw the stream");
    return t;
  }

  @Test
  @Timeout(300)
  void repeatedUploadsAndDownloadsNeverStall() throws Exception {
    long nudgesBefore = SendStallGuard.NUDGES.get();
    List<Double> up = new ArrayList<>();
    List<Double> down = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      up.add(begin(true).await(60));
      down.add(begin(false).await(60));
    }
    LOG.info("upload MiB/s " + up + ", download MiB/s " + down + ", guard nudges "
        + (SendStallGuard.NUDGES.get() - nudgesBefore));
    KwikRates.record("single-stream upload MiB/s", up);
    KwikRates.record("single-stream download MiB/s", down);
  }

  @Test
  @Timeout(300)
  void concurrentTransfersNeverStall() throws Exception {
    List<Transfer> transfers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      transfers.add(begin(true));
      transfers.add(begin(false));
    }
    List<Double> rates = new ArrayList<>();
    for (Transfer t : transfers) {
      rates.add(t.await(120));
    }
    KwikRates.record("6 concurrent transfers, per-stream MiB/s", rates);
  }

  /** Demonstration: the same transfers with the guard off; counts the ones that stall. */
  @Test
  @Timeout(600)
  @EnabledIfSystemProperty(named = "kwik.stallDemo", matches = "true")
  void withoutGuardStalls() throws Exception {
    SendStallGuard.enabled = false;
    int stalledUp = 0;
    int stalledDown = 0;
    try {
      for (int i = 0; i < 8; i++) {
        for (boolean upload : new boolean[] {true, false}) {
          Transfer t = begin(upload);
          try {
            t.await(20);
          } catch (TimeoutException e) {
            if (upload) {
              stalledUp++;
            } else {
              stalledDown++;
            }
            t.client.stream.reset(0x10c);
          }
        }
      }
    } finally {
      SendStallGuard.enabled = true;
    }
    KwikRates.record("WITHOUT guard: stalled uploads of 8", List.of((double) stalledUp));
    KwikRates.record("WITHOUT guard: stalled downloads of 8", List.of((double) stalledDown));
    assertTrue(stalledUp + stalledDown > 0, "expected kwik's send stall without the guard");
  }
}
