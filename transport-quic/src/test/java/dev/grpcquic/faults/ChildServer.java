package dev.grpcquic.faults;

import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.testing.TestService;
import io.grpc.Server;
import java.io.File;
import java.net.InetSocketAddress;

/**
 * A QUIC gRPC server with {@link TestService} in its own JVM. Args: port (0 picks one), the
 * certificate chain and key PEM files (the parent's {@code TestTls}, whose CA its clients trust).
 */
public final class ChildServer {
  private ChildServer() {}

  public static void main(String[] args) throws Exception {
    Server server = QuicServerBuilder
        .forAddress(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])))
        .useTransportSecurity(new File(args[1]), new File(args[2]))
        .addService(new TestService().definition())
        .build()
        .start();
    System.out.println("READY " + ((InetSocketAddress) server.getListenSockets().get(0)).getPort());
    // Runs until killed; the parent never asks it to stop politely.
    server.awaitTermination();
  }
}
