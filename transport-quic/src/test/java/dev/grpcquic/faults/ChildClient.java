package dev.grpcquic.faults;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import java.io.File;
import io.grpc.stub.ClientCalls;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A client in its own JVM that starts a HANG call. Args: the server's port and the CA PEM file
 * (the parent's {@code TestTls}).
 */
public final class ChildClient {
  private ChildClient() {}

  public static void main(String[] args) throws Exception {
    ManagedChannel channel = QuicChannelBuilder
        .forAddress("127.0.0.1", Integer.parseInt(args[0]))
        .overrideAuthority("localhost")
        .trustCertificates(new File(args[1]))
        .build();
    ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[] {1});
    CompletableFuture<?> hang = TestService.startHang(channel, new io.grpc.Metadata());
    System.out.println("READY calling");
    hang.get(); // until killed
  }
}
