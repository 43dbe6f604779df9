#include "connectors/xmpp/xmpp_tls.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gloox/tlshandler.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace mb {

namespace {

std::string cert_problems(int status) {
    std::vector<std::string> p;
    if (status & gloox::CertSignerUnknown) p.emplace_back("its issuer is not a trusted CA");
    if (status & gloox::CertSignerNotCa) p.emplace_back("its signer is not a CA");
    if (status & gloox::CertRevoked) p.emplace_back("it is revoked");
    if (status & gloox::CertExpired) p.emplace_back("it has expired");
    if (status & gloox::CertNotActive) p.emplace_back("it is not valid yet");
    if ((status & gloox::CertInvalid) && p.empty()) p.emplace_back("its chain does not verify");
    return fmt::format("{}", fmt::join(p, ", "));
}

}  // namespace

XmppTls::XmppTls(gloox::TLSHandler* handler, const std::string& domain, std::string ca_file)
    : gloox::TLSBase(handler, domain), ca_file_(std::move(ca_file)) {}

XmppTls::~XmppTls() {
    if (session_) gnutls_deinit(session_);
    if (creds_) gnutls_certificate_free_credentials(creds_);
}

bool XmppTls::init(const std::string&, const std::string&, const gloox::StringList&) {
    if (session_) return true;
    if (gnutls_certificate_allocate_credentials(&creds_) < 0) {
        error_ = "cannot allocate TLS credentials";
        return false;
    }
    const int n = ca_file_.empty() ? gnutls_certificate_set_x509_system_trust(creds_)
                                   : gnutls_certificate_set_x509_trust_file(
                                         creds_, ca_file_.c_str(), GNUTLS_X509_FMT_PEM);
    if (n <= 0) {
        error_ = fmt::format("no CA certificate loaded from {}{}",
                             ca_file_.empty() ? "the system store" : ca_file_,
                             n < 0 ? std::string(": ") + gnutls_strerror(n) : "");
        return false;
    }
    if (gnutls_init(&session_, GNUTLS_CLIENT) < 0) {
        session_ = nullptr;
        error_ = "cannot create a TLS session";
        return false;
    }
    const char* err_pos = nullptr;
    if (const int rc = gnutls_priority_set_direct(
            session_, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", &err_pos);
        rc < 0) {
        error_ = std::string("TLS priorities: ") + gnutls_strerror(rc);
        return false;
    }
    gnutls_server_name_set(session_, GNUTLS_NAME_DNS, m_server.data(), m_server.size());
    gnutls_credentials_set(session_, GNUTLS_CRD_CERTIFICATE, creds_);
    gnutls_transport_set_ptr(session_, this);
    gnutls_transport_set_push_function(session_, &XmppTls::push);
    gnutls_transport_set_pull_function(session_, &XmppTls::pull);
    m_valid = true;
    return true;
}

bool XmppTls::encrypt(const std::string& data) {
    if (!m_secure || closed_) return false;
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = gnutls_record_send(session_, data.data() + done, data.size() - done);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) continue;
        if (n < 0) {
            fail(std::string("TLS send: ") + gnutls_strerror(static_cast<int>(n)));
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

int XmppTls::decrypt(const std::string& data) {
    if (closed_) return 0;
    in_ += data;
    if (!m_secure && !handshake()) return static_cast<int>(data.size());
    char buf[16384];
    // Stops when the handler closed us (a stream error or a refused
    // certificate disconnects from inside handleDecryptedData/handshake).
    while (m_secure && !closed_) {
        const std::size_t before = in_.size();
        const ssize_t n = gnutls_record_recv(session_, buf, sizeof buf);
        if (n > 0) {
            m_handler->handleDecryptedData(this, std::string(buf, static_cast<std::size_t>(n)));
            continue;
        }
        if (n == 0) {
            fail("the server closed the TLS session");
            break;
        }
        if (gnutls_error_is_fatal(static_cast<int>(n))) {
            fail(std::string("TLS: ") + gnutls_strerror(static_cast<int>(n)));
            break;
        }
        // Not fatal: GNUTLS_E_AGAIN also comes after a post-handshake message (a
        // TLS 1.3 session ticket) with records still buffered; go on while input
        // is being consumed.
        if (in_.empty() || in_.size() >= before) break;
    }
    return static_cast<int>(data.size());
}

void XmppTls::cleanup() {
    closed_ = true;
    m_secure = false;
}

bool XmppTls::handshake() {
    if (!session_ || closed_) return false;
    int rc = 0;
    do {
        rc = gnutls_handshake(session_);
    } while (rc < 0 && rc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rc));
    if (rc == GNUTLS_E_AGAIN) return true;
    if (rc < 0) {
        error_ = std::string("TLS handshake failed: ") + gnutls_strerror(rc);
        closed_ = true;
        m_handler->handleHandshakeResult(this, false, m_certInfo);
        return false;
    }
    m_secure = true;
    fill_cert_info();
    m_handler->handleHandshakeResult(this, true, m_certInfo);
    return true;
}

bool XmppTls::hasChannelBinding() const {
    return m_secure && gnutls_protocol_get_version(session_) == GNUTLS_TLS1_2;
}

const std::string XmppTls::channelBinding() const {
    gnutls_datum_t cb{};
    if (!hasChannelBinding() ||
        gnutls_session_channel_binding(session_, GNUTLS_CB_TLS_UNIQUE, &cb) < 0)
        return {};
    std::string out(reinterpret_cast<const char*>(cb.data), cb.size);
    gnutls_free(cb.data);
    return out;
}

void XmppTls::fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    closed_ = true;
}

void XmppTls::fill_cert_info() {
    gloox::CertInfo& ci = m_certInfo;
    ci.status = gloox::CertOk;
    unsigned status = 0;
    if (const int rc = gnutls_certificate_verify_peers3(session_, m_server.c_str(), &status);
        rc < 0) {
        ci.status = gloox::CertInvalid;
    } else if (status != 0) {
        if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) ci.status |= gloox::CertSignerUnknown;
        if (status & GNUTLS_CERT_SIGNER_NOT_CA) ci.status |= gloox::CertSignerNotCa;
        if (status & GNUTLS_CERT_REVOKED) ci.status |= gloox::CertRevoked;
        if (status & GNUTLS_CERT_EXPIRED) ci.status |= gloox::CertExpired;
        if (status & GNUTLS_CERT_NOT_ACTIVATED) ci.status |= gloox::CertNotActive;
        if (status & GNUTLS_CERT_UNEXPECTED_OWNER) ci.status |= gloox::CertWrongPeer;
        // GNUTLS_CERT_INVALID accompanies any failure, a name mismatch included.
        if (status & ~static_cast<unsigned>(GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER))
            ci.status |= gloox::CertInvalid;
    }
    ci.chain = status == 0;
    unsigned n = 0;
    const gnutls_datum_t* certs = gnutls_certificate_get_peers(session_, &n);
    gnutls_x509_crt_t crt = nullptr;
    if (certs && n > 0 && gnutls_x509_crt_init(&crt) >= 0) {
        if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0) {
            gnutls_datum_t dn{};
            if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
                ci.server.assign(reinterpret_cast<const char*>(dn.data), dn.size);
                gnutls_free(dn.data);
            }
            if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) >= 0) {
                ci.issuer.assign(reinterpret_cast<const char*>(dn.data), dn.size);
                gnutls_free(dn.data);
            }
            ci.date_from = static_cast<int>(gnutls_x509_crt_get_activation_time(crt));
            ci.date_to = static_cast<int>(gnutls_x509_crt_get_expiration_time(crt));
        }
        gnutls_x509_crt_deinit(crt);
    }
    const char* proto = gnutls_protocol_get_name(gnutls_protocol_get_version(session_));
    ci.protocol = proto ? proto : "?";
    const char* cipher = gnutls_cipher_get_name(gnutls_cipher_get(session_));
    ci.cipher = cipher ? cipher : "?";
    const char* mac = gnutls_mac_get_name(gnutls_mac_get(session_));
    ci.mac = mac ? mac : "?";
}

ssize_t XmppTls::push(void* p, const void* data, std::size_t len) {
    auto* self = static_cast<XmppTls*>(p);
    if (self->m_handler)
        self->m_handler->handleEncryptedData(self,
                                             std::string(static_cast<const char*>(data), len));
    return static_cast<ssize_t>(len);
}

ssize_t XmppTls::pull(void* p, void* data, std::size_t len) {
    auto* self = static_cast<XmppTls*>(p);
    if (self->in_.empty()) {
        gnutls_transport_set_errno(self->session_, EAGAIN);
        errno = EAGAIN;
        return -1;
    }
    const std::size_t n = std::min(len, self->in_.size());
    std::memcpy(data, self->in_.data(), n);
    self->in_.erase(0, n);
    return static_cast<ssize_t>(n);
}

std::unique_ptr<gloox::TLSBase> make_xmpp_tls(gloox::TLSHandler* client, const std::string& domain,
                                              const std::string& ca_file) {
    return std::make_unique<XmppTls>(client, domain, ca_file);
}

std::string xmpp_tls_refusal(int status, const std::string& protocol, const std::string& domain,
                             const std::string& ca_file) {
    std::vector<std::string> why;
    const int untrusted = gloox::CertInvalid | gloox::CertSignerUnknown | gloox::CertRevoked |
                          gloox::CertExpired | gloox::CertNotActive | gloox::CertSignerNotCa;
    if (status & untrusted)
        why.push_back(fmt::format(
            "the server certificate is not trusted: {} (trust anchors: the system store{})",
            cert_problems(status), ca_file.empty() ? "" : " and " + ca_file));
    if (status & gloox::CertWrongPeer)
        why.push_back(
            fmt::format("the server certificate is not valid for host name '{}'", domain));
    if (protocol == "SSL3.0" || protocol == "TLS1.0" || protocol == "TLS1.1" ||
        protocol == "TLSv1" || protocol == "TLSv1.1")
        why.push_back("the server negotiated " + protocol + ", 1.2 or newer is required");
    return fmt::format("{}", fmt::join(why, "; "));
}

}  // namespace mb
