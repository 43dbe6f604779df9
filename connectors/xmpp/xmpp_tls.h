// XmppTls: TLS for one connection attempt of a gloox client, on GnuTLS
// directly. Created by XmppSession for each attempt (and by the test fixtures'
// XMPP clients through make_xmpp_tls()); the gloox client owns it once given
// to setEncryptionImpl(). Used on the thread that drives that client only.
//
// gloox 1.0.24's own GnuTLS client (TLSDefault) does not fit: its init() loads
// the system store and ignores the CA list, ClientBase::setCACerts() never
// reaches it, its cleanup() (on every disconnect, possibly from inside its own
// decrypt loop) replaces the credentials, dropping anything added, and its
// destructor leaks the last ones with the whole system trust store (~3.5 MB per
// client, LeakSanitizer). It also stops at TLS 1.2. This one trusts exactly
// `ca_file` (or the system store when empty), verifies the certificate and the
// JID's domain (RFC 6120) with gnutls_certificate_verify_peers3(), offers TLS
// 1.2 and 1.3, and reports the result to onTLSConnect() through gloox's
// CertInfo.
//
// Errors: init() returns false and error() says why (no CA loaded, …); a
// failure on the wire (handshake, send, receive) closes the layer and error()
// keeps the first reason, which the session reads to end the connection.
#pragma once

#include <gloox/tlsbase.h>
#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

struct gnutls_session_int;
struct gnutls_certificate_credentials_st;

namespace gloox {
class TLSHandler;
}  // namespace gloox

namespace mb {

class XmppTls final : public gloox::TLSBase {
  public:
    XmppTls(gloox::TLSHandler* handler, const std::string& domain, std::string ca_file);
    ~XmppTls() override;
    XmppTls(const XmppTls&) = delete;
    XmppTls& operator=(const XmppTls&) = delete;

    // Call before connect(); false: see error().
    bool init(const std::string& = gloox::EmptyString, const std::string& = gloox::EmptyString,
              const gloox::StringList& = gloox::StringList()) override;
    bool encrypt(const std::string& data) override;
    int decrypt(const std::string& data) override;
    // Called by gloox on disconnect, possibly from inside decrypt(): only marks
    // the session closed; the destructor frees it.
    void cleanup() override;
    bool handshake() override;

    // SCRAM-SHA-1-PLUS: gloox 1.0.24 only knows tls-unique, which TLS 1.3 does not define.
    bool hasChannelBinding() const override;
    const std::string channelBinding() const override;

    void setCACerts(const gloox::StringList&) override {}  // the CA file is given to the ctor
    void setClientCert(const std::string&, const std::string&) override {}

    // Why the layer failed ("" while it has not).
    const std::string& error() const { return error_; }

  private:
    void fail(std::string why);
    void fill_cert_info();
    static ssize_t push(void* self, const void* data, std::size_t len);
    static ssize_t pull(void* self, void* data, std::size_t len);

    std::string ca_file_;
    gnutls_certificate_credentials_st* creds_ = nullptr;
    gnutls_session_int* session_ = nullptr;
    std::string in_;  // ciphertext received, not yet consumed by GnuTLS
    bool closed_ = false;
    std::string error_;
};

// The same, as gloox's base type (for clients that need nothing else of it).
std::unique_ptr<gloox::TLSBase> make_xmpp_tls(gloox::TLSHandler* client, const std::string& domain,
                                              const std::string& ca_file);

// Why a server certificate or protocol is refused, from the CertInfo of the
// handshake: "" when it is acceptable. `domain` and `ca_file` are named in the
// reasons.
std::string xmpp_tls_refusal(int status, const std::string& protocol, const std::string& domain,
                             const std::string& ca_file);

}  // namespace mb
