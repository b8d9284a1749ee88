package dev.grpcquic.zerortt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.stats.QuicEarlyDataStats;
import dev.grpcquic.testing.CountingTicketStore;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
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
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/** Channels, ticket stores and trust managers that let the 0-RTT tests see what happened. */
final class ZeroRttFixtures {
  private ZeroRttFixtures() {}

  static final MethodDescriptor<byte[], byte[]> IDEMPOTENT_ECHO =
      TestService.ECHO.toBuilder().setIdempotent(true).build();
  static final byte[] REQUEST = "early bird".getBytes(StandardCharsets.UTF_8);

  /** A request that fills several 0-RTT packets, each byte telling its place. */
  static byte[] largeRequest(int size) {
    byte[] request = new byte[size];
    for (int i = 0; i < size; i++) {
      request[i] = (byte) (i * 31 + (i >> 8));
    }
    return request;
  }

  /**
   * The test CA, counting the server certificates it was asked to check: a TLS 1.3 handshake that
   * resumes a session has no server Certificate message (RFC 8446 §2.2), so a connection that
   * checked none resumed.
   */
  static final class CountingTrust extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager delegate =
        (X509ExtendedTrustManager) TestTls.get().trustManager();
    final AtomicInteger serverChecks = new AtomicInteger();

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      serverChecks.incrementAndGet();
      delegate.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      serverChecks.incrementAndGet();
      delegate.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      serverChecks.incrementAndGet();
      delegate.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }
  }

  /** Makes one call on a fresh channel so that the store holds a ticket from its server. */
  static void earnTicket(Supplier<QuicChannelBuilder> builder, CountingTicketStore store)
      throws Exception {
    int before = store.puts.get();
    ManagedChannel first = builder.get().sessionTicketStore(store).build();
    try {
      assertArrayEquals(REQUEST, ClientCalls.blockingUnaryCall(
          first, TestService.ECHO, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS),
          REQUEST));
      store.awaitPuts(before + 1);
    } finally {
      first.shutdownNow();
    }
  }

  /**
   * Calls {@code method} on a new channel with {@code store}; returns the connection's 0-RTT
   * stats. Every connection, resumed or not, must earn a ticket for the next one.
   */
  static QuicEarlyDataStats callOnNewChannel(Supplier<QuicChannelBuilder> builder,
      CountingTicketStore store, MethodDescriptor<byte[], byte[]> method, CallOptions options,
      boolean zeroRtt) throws Exception {
    return callOnNewChannel(builder, store, method, options, zeroRtt, REQUEST);
  }

  /** The same with {@code request} as the echoed message. */
  static QuicEarlyDataStats callOnNewChannel(Supplier<QuicChannelBuilder> builder,
      CountingTicketStore store, MethodDescriptor<byte[], byte[]> method, CallOptions options,
      boolean zeroRtt, byte[] request) throws Exception {
    AtomicReference<Supplier<QuicEarlyDataStats>> early = new AtomicReference<>();
    int ticketsBefore = store.puts.get();
    ManagedChannel channel = builder.get().sessionTicketStore(store).zeroRtt(zeroRtt).build();
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
      assertArrayEquals(request, ClientCalls.blockingUnaryCall(intercepted, method,
          options.withDeadlineAfter(20, TimeUnit.SECONDS), request));
      assertNotNull(early.get(), "the transport reports EARLY_DATA");
      store.awaitPuts(ticketsBefore + 1);
      return early.get().get();
    } finally {
      channel.shutdownNow();
    }
  }
}
