package dev.grpcquic.example;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.example.hello.GreeterGrpc;
import dev.grpcquic.example.hello.HelloReply;
import dev.grpcquic.example.hello.HelloRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.File;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Calls {@link HelloServer} over QUIC. Usage: {@code HelloClient HOST PORT CA.pem [NAME]}. HOST is
 * checked against the server certificate's DNS names or IP addresses. Exits 1 if the call fails.
 */
public final class HelloClient {
  private HelloClient() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length < 3) {
      System.err.println("usage: HelloClient HOST PORT CA.pem [NAME]");
      System.exit(2);
    }
    ManagedChannel channel;
    try {
      channel = QuicChannelBuilder.forAddress(args[0], Integer.parseInt(args[1]))
          .trustCertificates(new File(args[2])) // reads the PEM file now: IOException
          .build();
    } catch (IOException e) {
      System.err.println("cannot read the CA file: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      GreeterGrpc.GreeterBlockingStub greeter = GreeterGrpc.newBlockingStub(channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS);
      HelloReply reply = greeter.sayHello(
          HelloRequest.newBuilder().setName(args.length > 3 ? args[3] : "QUIC").build());
      System.out.println(reply.getMessage());
    } catch (StatusRuntimeException e) {
      // The status says what went wrong: certificate, no server at the port, shutting down...
      System.err.println("call failed: " + e.getStatus());
      System.exit(1);
    } finally {
      channel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
