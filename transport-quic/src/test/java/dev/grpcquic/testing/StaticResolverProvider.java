package dev.grpcquic.testing;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Resolves {@code SCHEME:///anything} to a fixed list of addresses, once, with the authority
 * "localhost" (the test certificate's name): several servers behind one target, for round_robin.
 * Register it with {@code NameResolverRegistry.getDefaultRegistry().register(...)} and
 * deregister it after; each test uses a scheme of its own.
 */
public final class StaticResolverProvider extends NameResolverProvider {
  private final String scheme;
  private final List<SocketAddress> addresses;

  public StaticResolverProvider(String scheme, List<SocketAddress> addresses) {
    this.scheme = scheme;
    this.addresses = List.copyOf(addresses);
  }

  @Override
  public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    if (!scheme.equals(targetUri.getScheme())) {
      return null;
    }
    return new NameResolver() {
      @Override
      public String getServiceAuthority() {
        return "localhost";
      }

      @Override
      public void start(Listener2 listener) {
        List<EquivalentAddressGroup> groups = new ArrayList<>();
        for (SocketAddress a : addresses) {
          groups.add(new EquivalentAddressGroup(a));
        }
        listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).build());
      }

      @Override
      public void shutdown() {}
    };
  }

  @Override
  public String getDefaultScheme() {
    return scheme;
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 5;
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
    return List.of(InetSocketAddress.class);
  }
}
