package dev.grpcquic.engine;

import java.security.cert.Certificate;

/**
 * What the TLS 1.3 handshake of a connection settled on, for diagnostics (channelz).
 *
 * @param cipherSuite the negotiated cipher suite's standard name (e.g. TLS_AES_128_GCM_SHA256), or
 *     null when the engine cannot tell
 * @param localCertificate this end's leaf certificate, or null when it sent none
 * @param remoteCertificate the peer's leaf certificate, or null when it sent none
 */
public record TlsInfo(String cipherSuite, Certificate localCertificate,
    Certificate remoteCertificate) {
}
