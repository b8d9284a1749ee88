package dev.grpcquic.example;

import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.example.hello.GreeterGrpc;
import dev.grpcquic.example.hello.HelloReply;
import dev.grpcquic.example.hello.HelloRequest;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.File;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC server over QUIC (UDP). Usage: {@code HelloServer PORT CHAIN.pem KEY.pem}; port 0 picks a
 * free one. Prints "listening on port N", serves until SIGTERM (Ctrl-C), then drains: calls in
 * flight finish, new connections go elsewhere.
 */
public final class HelloServer {
  private HelloServer() {}

  static final class GreeterImpl extends GreeterGrpc.GreeterImplBase {
    @Override
    public void sayHello(HelloRequest request, StreamObserver<HelloReply> responses) {
      responses.onNext(HelloReply.newBuilder().setMessage("Hello, " + request.getName()).build());
      responses.onCompleted();
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: HelloServer PORT CHAIN.pem KEY.pem");
      System.exit(2);
    }
    Server server = QuicServerBuilder.forPort(Integer.parseInt(args[0]))
        .useTransportSecurity(new File(args[1]), new File(args[2]))
        .addService(new GreeterImpl())
        .build()
        .start();
    int port = ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    System.out.println("listening on port " + port);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdown();
      try {
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
          server.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    server.awaitTermination();
  }
}
