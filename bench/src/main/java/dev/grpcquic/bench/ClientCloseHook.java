package dev.grpcquic.bench;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.function.Consumer;

/**
 * A client interceptor that hands each call to {@code hook} when the call's listener hears its
 * close, before the application does: what the benchmarks read or time at that point
 * ({@link FirstCallBench}: the call's attributes; {@link UnaryLegsBench}: the end of its response).
 */
final class ClientCloseHook implements ClientInterceptor {
  private final Consumer<ClientCall<?, ?>> hook;

  ClientCloseHook(Consumer<ClientCall<?, ?>> hook) {
    this.hook = hook;
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method,
      CallOptions options, Channel next) {
    ClientCall<Q, R> call = next.newCall(method, options);
    return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
            listener) {
          @Override
          public void onClose(Status status, Metadata trailers) {
            hook.accept(call);
            super.onClose(status, trailers);
          }
        }, headers);
      }
    };
  }
}
