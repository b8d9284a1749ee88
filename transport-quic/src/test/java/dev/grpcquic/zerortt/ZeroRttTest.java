package dev.grpcquic.zerortt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.QuicCallOptions;
import dev.grpcquic.QuicSessionTicketStore;
import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Session resumption and 0-RTT between a grpc-quic client and server on real kwik connections: a
 * first connection earns a session ticket, the next one resumes with it and sends its first call
 * as early data when (and only when) the call is safe to replay.
 */
@Timeout(60)
class ZeroRttTest {

  private static final MethodDescriptor<byte[], byte[]> IDEMPOTENT_ECHO =
      TestService.ECHO.toBuilder().setIdempotent(true).build();
  private static final byte[] REQUEST = "early bird".getBytes(StandardCharsets.UTF_8);

  private QuicTestServer server;
  private QuicTestServer secondServer;

  @AfterEach
  void tearDown() throws Exception {
    if (server != null) {
      server.close();
    }
    if (secondServer != null) {
      secondServer.close();
    }
  }

  /** Counts the tickets stored; the channel dials with authority "localhost" (see QuicTestServer). */
  private static final class CountingStore implements QuicSessionTicketStore {
    final QuicSessionTicketStore delegate = QuicSessionTicketStore.inMemory(4);
    final AtomicInteger puts = new AtomicInteger();
    private final java.util.concurrent.Semaphore arrived = new java.util.concurrent.Semaphore(0);

    @Override
    public void put(String authority, byte[] ticket) {
      delegate.put(authority, ticket);
      puts.incrementAndGet();
      arrived.release();
    }

    @Override
    public byte[] take(String authority) {
      return delegate.take(authority);
    }

    /** Waits until {@code count} tickets were stored in all. */
    void awaitPuts(int count) throws InterruptedException {
      while (puts.get() < count) {
        assertTrue(arrived.tryAcquire(20, java.util.concurrent.TimeUnit.SECONDS),
            "no session ticket arrived");
      }
    }
  }

  /** Makes one call on a fresh channel so that the store holds a ticket from {@code target}. */
  private static void earnTicket(QuicTestServer target, CountingStore store) throws Exception {
    int before = store.puts.get();
    ManagedChannel first = target.channelBuilder().sessionTicketStore(store).build();
    try {
      assertArrayEquals(REQUEST, ClientCalls.blockingUnaryCall(
          first, TestService.ECHO, CallOptions.DEFAULT, REQUEST));
      store.awaitPuts(before + 1);
    } finally {
      first.shutdownNow();
    }
  }

  /** Calls {@code method} on a new channel with {@code store}; returns the connection's 0-RTT stats. */
  private static EarlyDataStats callOnNewChannel(QuicTestServer target, CountingStore store,
      MethodDescriptor<byte[], byte[]> method, CallOptions options) throws Exception {
    return callOnNewChannel(target, store, method, options, true);
  }

  private static EarlyDataStats callOnNewChannel(QuicTestServer target, CountingStore store,
      MethodDescriptor<byte[], byte[]> method, CallOptions options, boolean zeroRtt)
      throws Exception {
    AtomicReference<Supplier<EarlyDataStats>> early = new AtomicReference<>();
    int ticketsBefore = store.puts.get();
    ManagedChannel channel = target.channelBuilder().sessionTicketStore(store).zeroRtt(zeroRtt)
        .build();
    try {
      Channel intercepted = ClientInterceptors.intercept(channel, new ClientInterceptor() {
        @Override
        public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
            MethodDescriptor<ReqT, RespT> m, CallOptions o, Channel next) {
          ClientCall<ReqT, RespT> call = next.newCall(m, o);
          return new SimpleForwardingClientCall<>(call) {
            @Override
            public void start(Listener<RespT> listener, Metadata headers) {
              super.start(new SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onClose(Status status, Metadata trailers) {
                  early.set(call.getAttributes().get(QuicAttributes.EARLY_DATA));
                  super.onClose(status, trailers);
                }
              }, headers);
            }
          };
        }
      });
      assertArrayEquals(REQUEST, ClientCalls.blockingUnaryCall(intercepted, method, options,
          REQUEST));
      assertNotNull(early.get(), "the transport reports EARLY_DATA");
      // Every connection, resumed or not, earns a ticket for the next one.
      store.awaitPuts(ticketsBefore + 1);
      return early.get().get();
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void idempotentCallOnResumedConnectionGoesAsEarlyData() throws Exception {
    server = new QuicTestServer();
    CountingStore store = new CountingStore();
    earnTicket(server, store);

    EarlyDataStats stats = callOnNewChannel(server, store, IDEMPOTENT_ECHO, CallOptions.DEFAULT);

    assertEquals(EarlyDataStats.Outcome.ACCEPTED, stats.outcome(), stats.toString());
    assertEquals(1, stats.streams(), stats.toString());
    assertTrue(stats.zeroRttPackets() > 0, stats.toString());
    // The resumed connection earned a ticket in turn: the next one resumes too.
    EarlyDataStats again = callOnNewChannel(server, store, IDEMPOTENT_ECHO, CallOptions.DEFAULT);
    assertEquals(EarlyDataStats.Outcome.ACCEPTED, again.outcome(), again.toString());
  }

  @Test
  void nonIdempotentCallNeverGoesEarly() throws Exception {
    server = new QuicTestServer();
    CountingStore store = new CountingStore();
    earnTicket(server, store);

    EarlyDataStats stats = callOnNewChannel(server, store, TestService.ECHO, CallOptions.DEFAULT);

    assertEquals(EarlyDataStats.Outcome.NOT_ATTEMPTED, stats.outcome(), stats.toString());
    assertEquals(0, stats.streams());
    assertEquals(0, stats.zeroRttPackets(), "no 0-RTT packet left the client");
  }

  @Test
  void callOptionLetsANonIdempotentCallGoEarly() throws Exception {
    server = new QuicTestServer();
    CountingStore store = new CountingStore();
    earnTicket(server, store);

    EarlyDataStats stats = callOnNewChannel(server, store, TestService.ECHO,
        CallOptions.DEFAULT.withOption(QuicCallOptions.EARLY_DATA, true));

    assertEquals(EarlyDataStats.Outcome.ACCEPTED, stats.outcome(), stats.toString());
    assertEquals(1, stats.streams());
  }

  @Test
  void restartedServerRejectsEarlyDataAndTheCallStillSucceeds() throws Exception {
    server = new QuicTestServer();
    CountingStore store = new CountingStore();
    earnTicket(server, store);
    server.close();
    server = null;
    // A new server (its ticket keys are new) under the same authority: the ticket is useless.
    secondServer = new QuicTestServer();

    EarlyDataStats stats = callOnNewChannel(secondServer, store, IDEMPOTENT_ECHO,
        CallOptions.DEFAULT);

    assertEquals(EarlyDataStats.Outcome.REJECTED, stats.outcome(), stats.toString());
    assertEquals(1, stats.streams());
    assertTrue(stats.zeroRttPackets() > 0, stats.toString());
  }

  @Test
  void zeroRttOffResumesWithoutEarlyData() throws Exception {
    server = new QuicTestServer();
    CountingStore store = new CountingStore();
    earnTicket(server, store);

    EarlyDataStats stats = callOnNewChannel(server, store, IDEMPOTENT_ECHO, CallOptions.DEFAULT,
        false);

    assertEquals(EarlyDataStats.Outcome.NOT_ATTEMPTED, stats.outcome(), stats.toString());
    assertEquals(0, stats.zeroRttPackets());
  }
}
