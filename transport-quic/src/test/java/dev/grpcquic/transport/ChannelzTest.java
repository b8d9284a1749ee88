package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.InternalChannelz;
import io.grpc.InternalChannelz.ChannelStats;
import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalInstrumented;
import io.grpc.InternalWithLogId;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * channelz sees a QUIC connection as a socket on both ends: grpc-core's call and message counts,
 * the addresses, the TLS cipher suite and certificates, and kwik's RTT and packet counters as
 * socket options. Queried through {@link InternalChannelz}, what grpc-services' ChannelzService
 * serves.
 */
@Timeout(60)
class ChannelzTest {
  private static final InternalChannelz CHANNELZ = InternalChannelz.instance();
  private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(20);

  @Test
  void clientAndServerSocketsShowCallsRttAndTls() throws Exception {
    try (QuicTestServer server = new QuicTestServer()) {
      ManagedChannel channel = server.channel();
      for (int i = 0; i < 5; i++) {
        ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
            CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[100]);
      }
      Iterator<byte[]> download = ClientCalls.blockingServerStreamingCall(channel,
          TestService.DOWNLOAD, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS),
          TestService.downloadRequest(3, 1000));
      int received = 0;
      while (download.hasNext()) {
        download.next();
        received++;
      }
      assertEquals(3, received);

      // 6 calls: 5 echoes (1 message each way) and a download (1 out, 3 in).
      SocketStats client = poll("client socket", () -> clientSocket(server.port()),
          s -> s.data.streamsSucceeded == 6);
      assertEquals(6, client.data.streamsStarted);
      assertEquals(0, client.data.streamsFailed);
      assertEquals(6, client.data.messagesSent);
      assertEquals(8, client.data.messagesReceived);
      assertTrue(client.data.lastLocalStreamCreatedTimeNanos != 0, client.data.toString());
      assertQuicOptions(client);
      InetSocketAddress remote = (InetSocketAddress) client.remote;
      assertEquals(server.port(), remote.getPort());
      assertNotNull(client.local);
      assertNotNull(client.security, "client security");
      assertTrue(client.security.tls.cipherSuiteStandardName.startsWith("TLS_"),
          client.security.tls.cipherSuiteStandardName);
      assertNotNull(client.security.tls.remoteCert, "server certificate on the client socket");
      assertNull(client.security.tls.localCert, "no client certificate was sent");

      InetSocketAddress clientAddress = (InetSocketAddress) client.local;
      SocketStats serverSide = poll("server socket", () -> serverSocket(clientAddress.getPort()),
          s -> s.data.streamsSucceeded == 6);
      assertEquals(6, serverSide.data.streamsStarted);
      assertEquals(0, serverSide.data.streamsFailed);
      assertEquals(8, serverSide.data.messagesSent);
      assertEquals(6, serverSide.data.messagesReceived);
      assertTrue(serverSide.data.lastRemoteStreamCreatedTimeNanos != 0);
      assertQuicOptions(serverSide);
      assertEquals(server.port(), ((InetSocketAddress) serverSide.local).getPort());
      assertNotNull(serverSide.security, "server security");
      assertEquals(client.security.tls.cipherSuiteStandardName,
          serverSide.security.tls.cipherSuiteStandardName);
      assertEquals(client.security.tls.remoteCert, serverSide.security.tls.localCert);
    }
  }

  private static void assertQuicOptions(SocketStats stats) {
    var options = stats.socketOptions.others;
    List<String> names = new java.util.ArrayList<>(List.of(ChannelzStats.RTT_SMOOTHED,
        ChannelzStats.RTT_LATEST, ChannelzStats.PACKETS_LOST, ChannelzStats.BYTES_SENT,
        ChannelzStats.DATAGRAMS_SENT, ChannelzStats.CWND));
    if (dev.grpcquic.testing.TestEngine.isKwik()) {
      // quiche's statistics have neither (Netty exposes no rttvar, no bytes in flight).
      names.add(ChannelzStats.RTT_VARIANCE);
      names.add(ChannelzStats.BYTES_IN_FLIGHT);
    }
    for (String name : names) {
      assertTrue(options.containsKey(name), name + " missing in " + options);
    }
    // Loopback RTTs are below a millisecond, so only their presence is checked; packets went out.
    assertTrue(Integer.parseInt(options.get(ChannelzStats.RTT_SMOOTHED)) >= 0, options.toString());
    assertTrue(Long.parseLong(options.get(ChannelzStats.PACKETS_SENT)) > 0, options.toString());
    assertTrue(Long.parseLong(options.get(ChannelzStats.CWND)) > 0, options.toString());
  }

  /** The socket of the root channel whose target names the server's port; null if none yet. */
  private static SocketStats clientSocket(int port) throws Exception {
    for (InternalInstrumented<ChannelStats> root : CHANNELZ.getRootChannels(0, 1000).channels) {
      ChannelStats channel = root.getStats().get();
      if (channel.target == null || !channel.target.contains(":" + port)) {
        continue;
      }
      for (InternalWithLogId sub : channel.subchannels) {
        InternalInstrumented<ChannelStats> subchannel = CHANNELZ.getSubchannel(sub.getLogId().getId());
        if (subchannel == null) {
          continue;
        }
        for (InternalWithLogId socket : subchannel.getStats().get().sockets) {
          InternalInstrumented<SocketStats> s = CHANNELZ.getSocket(socket.getLogId().getId());
          if (s != null) {
            return s.getStats().get();
          }
        }
      }
    }
    return null;
  }

  /** The server socket whose remote port is the client's; null if none yet. */
  private static SocketStats serverSocket(int clientPort) throws Exception {
    List<InternalInstrumented<InternalChannelz.ServerStats>> servers =
        new ArrayList<>(CHANNELZ.getServers(0, 1000).servers);
    for (InternalInstrumented<InternalChannelz.ServerStats> server : servers) {
      InternalChannelz.ServerSocketsList list =
          CHANNELZ.getServerSockets(server.getLogId().getId(), 0, 1000);
      if (list == null) {
        continue;
      }
      for (InternalWithLogId socket : list.sockets) {
        InternalInstrumented<SocketStats> s = CHANNELZ.getSocket(socket.getLogId().getId());
        SocketStats stats = s == null ? null : s.getStats().get();
        if (stats != null && stats.remote instanceof InetSocketAddress remote
            && remote.getPort() == clientPort) {
          return stats;
        }
      }
    }
    return null;
  }

  interface Query {
    SocketStats get() throws Exception;
  }

  /** Counters are updated as streams close on both ends: poll until they settle. */
  private static SocketStats poll(String what, Query query, Predicate<SocketStats> done)
      throws Exception {
    long start = System.nanoTime();
    SocketStats last = null;
    while (System.nanoTime() - start < DEADLINE_NANOS) {
      last = query.get();
      if (last != null && done.test(last)) {
        return last;
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval, not synchronisation
    }
    fail(what + " did not settle: " + (last == null ? "not found" : last.data));
    return null;
  }
}
