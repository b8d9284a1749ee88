package dev.grpcquic.interop;

import dev.grpcquic.QuicEngines;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.certs.CertificateGenerator;
import dev.grpcquic.certs.DevCertificates;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.testing.integration.AbstractInteropTest;
import io.grpc.testing.integration.TestServiceImpl;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The interop server: grpc.testing.TestService (the official suite's {@link TestServiceImpl}, with
 * its metadata-echo interceptors) over QUIC or, as the baseline, Netty HTTP/2 on TCP with TLS.
 *
 * <pre>
 * --transport=quic|netty_tls   default quic
 * --engine=kwik|quiche         the QUIC engine (default kwik)
 * --address=HOST               default 127.0.0.1
 * --port=N                     default 0 (a free port, printed)
 * --cert_chain=PEM --private_key=PEM   the server certificate; without them dev certificates are
 *                              generated into --cert_dir (default: a new temporary directory)
 * </pre>
 */
public final class InteropServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(InteropServer.class.getName());

  private final Server server;
  private final ScheduledExecutorService serviceExecutor;
  private final Path caFile;

  private InteropServer(Server server, ScheduledExecutorService serviceExecutor, Path caFile) {
    this.server = server;
    this.serviceExecutor = serviceExecutor;
    this.caFile = caFile;
  }

  /** Starts a server as the command line {@code args} describe. */
  public static InteropServer start(String... args) throws IOException {
    Map<String, String> options = Flags.parse(args,
        "transport", "address", "port", "cert_chain", "private_key", "cert_dir", "engine");
    String transport = options.getOrDefault("transport", "quic");
    InetSocketAddress address = new InetSocketAddress(
        options.getOrDefault("address", "127.0.0.1"),
        Integer.parseInt(options.getOrDefault("port", "0")));

    File certChain;
    File privateKey;
    Path caFile = null;
    if (options.containsKey("cert_chain") || options.containsKey("private_key")) {
      if (!options.containsKey("cert_chain") || !options.containsKey("private_key")) {
        throw new IllegalArgumentException("--cert_chain and --private_key go together");
      }
      certChain = new File(options.get("cert_chain"));
      privateKey = new File(options.get("private_key"));
    } else {
      Path dir = options.containsKey("cert_dir")
          ? Path.of(options.get("cert_dir")) : Files.createTempDirectory("grpc-quic-interop");
      DevCertificates certificates = CertificateGenerator.generate();
      certificates.writePem(dir);
      certChain = dir.resolve(DevCertificates.SERVER_PEM).toFile();
      privateKey = dir.resolve(DevCertificates.SERVER_KEY).toFile();
      caFile = dir.resolve(DevCertificates.CA_PEM);
    }

    ServerBuilder<?> builder;
    switch (transport) {
      case "quic" -> builder = QuicServerBuilder.forAddress(address)
          .engine(QuicEngines.named(options.getOrDefault("engine", "kwik")))
          .useTransportSecurity(certChain, privateKey)
          .maxInboundMessageSize(AbstractInteropTest.MAX_MESSAGE_SIZE);
      case "netty_tls" -> builder = NettyServerBuilder.forAddress(address)
          .sslContext(GrpcSslContexts.forServer(certChain, privateKey).build())
          .maxInboundMessageSize(AbstractInteropTest.MAX_MESSAGE_SIZE);
      default -> throw new IllegalArgumentException(
          "--transport must be quic or netty_tls, not " + transport);
    }
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "interop-test-service");
      t.setDaemon(true);
      return t;
    });
    builder.addService(ServerInterceptors.intercept(
        new TestServiceImpl(executor), TestServiceImpl.interceptors()));
    Server server;
    try {
      server = builder.build().start();
    } catch (IOException | RuntimeException e) {
      executor.shutdownNow();
      throw e;
    }
    LOG.info(() -> "interop server (" + transport + ") on " + server.getListenSockets());
    return new InteropServer(server, executor, caFile);
  }

  /** The port the server listens on (UDP for quic, TCP for netty_tls). */
  public int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  /** The generated CA certificate, or null when the certificate came from the command line. */
  public Path caFile() {
    return caFile;
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdown();
    if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    serviceExecutor.shutdownNow();
  }

  public static void main(String[] args) throws Exception {
    InteropServer server;
    try {
      server = start(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    System.out.println("interop server listening on port " + server.port());
    if (server.caFile() != null) {
      System.out.println("dev certificates: client needs --ca_file=" + server.caFile()
          + " --server_host_override=localhost");
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    server.awaitTermination();
  }
}
