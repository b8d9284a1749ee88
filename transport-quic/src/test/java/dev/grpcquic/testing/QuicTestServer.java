package dev.grpcquic.testing;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicServerBuilder;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** A QUIC gRPC server with {@link TestService} on 127.0.0.1 and a free port, plus its channels. */
public final class QuicTestServer implements AutoCloseable {
  public final TestService service = new TestService();
  private final Server server;
  private final List<ManagedChannel> channels = new ArrayList<>();

  public QuicTestServer() throws IOException {
    this(UnaryOperator.identity());
  }

  public QuicTestServer(UnaryOperator<QuicServerBuilder> configure) throws IOException {
    TestTls tls = TestTls.get();
    QuicServerBuilder builder = QuicServerBuilder
        .forAddress(new InetSocketAddress("127.0.0.1", 0))
        .keyStore(tls.serverKeyStore(), tls.keyAlias(), tls.keyPassword())
        .engine(TestEngine.get())
        .addService(service.definition());
    server = configure.apply(builder).build().start();
  }

  public int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  public Server server() {
    return server;
  }

  /**
   * A channel builder for this server, trusting the test CA. It dials 127.0.0.1 ("localhost" may
   * resolve to ::1 first) and checks the certificate for "localhost": kwik matches DNS names only.
   */
  public QuicChannelBuilder channelBuilder() {
    return channelBuilder(port());
  }

  /** The same for any port on 127.0.0.1 (a relay, a server in another process). */
  public static QuicChannelBuilder channelBuilder(int port) {
    return QuicChannelBuilder.forAddress("127.0.0.1", port)
        .overrideAuthority("localhost")
        .engine(TestEngine.get())
        .trustManager(TestTls.get().trustManager());
  }

  /** A channel that is shut down with the server. */
  public ManagedChannel channel() {
    return track(channelBuilder().build());
  }

  public ManagedChannel track(ManagedChannel channel) {
    synchronized (channels) {
      channels.add(channel);
    }
    return channel;
  }

  @Override
  public void close() throws InterruptedException {
    synchronized (channels) {
      for (ManagedChannel channel : channels) {
        channel.shutdownNow();
      }
      for (ManagedChannel channel : channels) {
        channel.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
    server.shutdownNow();
    server.awaitTermination(10, TimeUnit.SECONDS);
  }
}
