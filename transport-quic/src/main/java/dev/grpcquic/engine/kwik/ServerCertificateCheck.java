package dev.grpcquic.engine.kwik;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.X509TrustManager;
import tech.kwik.agent15.engine.DefaultHostnameVerifier;
import tech.kwik.agent15.engine.HostnameVerifier;
import tech.kwik.agent15.engine.TlsClientEngine;
import tech.kwik.core.QuicClientConnection;

/**
 * A client connection's check of the server certificate: the trust path (the user's trust manager,
 * asked as TLS 1.3 means, see {@link Tls13TrustManager}) and the server name, matched against the
 * certificate's DNS entries (agent15's own check) and its IP address entries (which agent15
 * ignores). It remembers why a check failed: agent15 turns every failure into a bare alert
 * (bad_certificate, certificate_unknown), and a call's status should say what to fix.
 *
 * <p>kwik's builder takes no host-name verifier; agent15's TLS engine does, and kwik keeps that
 * engine behind a protected getter, reached through {@link KwikPrivateAccess}. Without it IP addresses
 * cannot be verified and the engine refuses them as server names, as it did before.
 */
final class ServerCertificateCheck implements X509TrustManager, HostnameVerifier {
  private static final Logger LOG = Logger.getLogger(ServerCertificateCheck.class.getName());
  private static final int SAN_DNS = 2;
  private static final int SAN_IP = 7;

  private final X509TrustManager trust;
  private final HostnameVerifier dnsNames = new DefaultHostnameVerifier();
  private volatile String failure;

  ServerCertificateCheck(X509TrustManager userTrustManager) {
    this.trust = new Tls13TrustManager(userTrustManager);
  }

  /** Whether a server name that is an IP address can be verified (the verifier can be installed). */
  static boolean verifiesIpAddresses() {
    return KwikPrivateAccess.IP_SERVER_NAMES.active();
  }

  /** Makes {@code connection}'s TLS engine ask this check for the server name. */
  void install(QuicClientConnection connection) {
    try {
      ((TlsClientEngine) KwikPrivateAccess.CONNECTION_TLS_ENGINE.invoke(connection))
          .setHostnameVerifier(this);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.WARNING, "cannot install the server name check; agent15's (DNS names only)"
          + " stays", e);
    }
  }

  /** Why the server's certificate was refused, or null. */
  String failure() {
    return failure;
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    try {
      trust.checkServerTrusted(chain, authType);
    } catch (CertificateException e) {
      failure = "server certificate not trusted (" + e.getMessage() + "): is the right CA in"
          + " trustCertificates / the trust manager?";
      throw e;
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    trust.checkClientTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return trust.getAcceptedIssuers();
  }

  @Override
  public boolean verify(String serverName, X509Certificate certificate) {
    boolean matches = isIpLiteral(serverName)
        ? holdsAddress(certificate, serverName)
        : dnsNames.verify(serverName, certificate);
    if (!matches) {
      failure = "server certificate is not valid for " + serverName + ": it holds "
          + names(certificate) + " (connect by one of these, or set overrideAuthority to one)";
    }
    return matches;
  }

  static boolean isIpLiteral(String name) {
    return name.indexOf(':') >= 0 || name.matches("[0-9.]+");
  }

  private static boolean holdsAddress(X509Certificate certificate, String literal) {
    InetAddress wanted = address(literal);
    if (wanted == null) {
      return false;
    }
    for (List<?> entry : alternativeNames(certificate)) {
      if (((Integer) entry.get(0)) == SAN_IP && wanted.equals(address((String) entry.get(1)))) {
        return true;
      }
    }
    return false;
  }

  /** An IP literal (brackets allowed) as an address, without a name lookup; null if not one. */
  private static InetAddress address(String literal) {
    String bare = literal.startsWith("[") && literal.endsWith("]")
        ? literal.substring(1, literal.length() - 1) : literal;
    if (!isIpLiteral(bare)) {
      return null;
    }
    try {
      return InetAddress.getByName(bare); // a literal: parsed, never resolved
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static String names(X509Certificate certificate) {
    List<String> names = new ArrayList<>();
    for (List<?> entry : alternativeNames(certificate)) {
      int type = (Integer) entry.get(0);
      if (type == SAN_DNS) {
        names.add("DNS:" + entry.get(1));
      } else if (type == SAN_IP) {
        names.add("IP:" + entry.get(1));
      }
    }
    return names.isEmpty()
        ? "no DNS or IP entries (subject " + certificate.getSubjectX500Principal().getName() + ")"
        : String.join(", ", names);
  }

  private static Collection<List<?>> alternativeNames(X509Certificate certificate) {
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      return names == null ? List.of() : names;
    } catch (CertificateParsingException e) {
      return List.of();
    }
  }
}
