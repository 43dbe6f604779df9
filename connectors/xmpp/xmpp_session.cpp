#include "connectors/xmpp/xmpp_session.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gloox/client.h>
#include <gloox/connectionlistener.h>
#include <gloox/connectiontcpclient.h>
#include <gloox/jid.h>
#include <gloox/loghandler.h>
#include <gloox/tag.h>
#include <gloox/tlsbase.h>
#include <gloox/tlshandler.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <resolv.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

namespace mb {

using namespace std::chrono;
using Clock = steady_clock;

namespace {

constexpr std::string_view kStanzasNs = "urn:ietf:params:xml:ns:xmpp-stanzas";
constexpr std::string_view kCommandsNs = "http://jabber.org/protocol/commands";
constexpr std::string_view kDataFormsNs = "jabber:x:data";
constexpr std::string_view kPingNs = "urn:xmpp:ping";
constexpr std::string_view kStreamsErrorNs = "urn:ietf:params:xml:ns:xmpp-streams";
constexpr auto kMaxPollWait = 250ms;

int poll_ms(Clock::duration d) {
    const auto ms = duration_cast<milliseconds>(d).count();
    return static_cast<int>(std::clamp<std::int64_t>(ms + 1, 0, kMaxPollWait.count()));
}

bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    in_addr a4{};
    if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    in6_addr a6{};
    if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

std::string errno_text(int e) {
    return std::strerror(e);
}

struct Target {
    std::string host;
    std::uint16_t port = 0;
};

std::uint16_t get16(const unsigned char* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

// The targets of the domain's _xmpp-client._tcp SRV records, by priority
// (weights only order equal priorities). Empty when there are none.
std::vector<Target> srv_targets(const std::string& domain) {
    struct __res_state st {};
    if (res_ninit(&st) != 0) return {};
    unsigned char buf[4096];
    const std::string name = "_xmpp-client._tcp." + domain;
    const int n = res_nquery(&st, name.c_str(), ns_c_in, ns_t_srv, buf, sizeof buf);
    res_nclose(&st);
    if (n < 12 || n > static_cast<int>(sizeof buf)) return {};
    const unsigned char* end = buf + n;
    const unsigned char* p = buf + 12;
    struct Srv {
        std::uint16_t priority, weight;
        Target target;
    };
    std::vector<Srv> found;
    for (int q = get16(buf + 4); q > 0; --q) {
        const int l = dn_skipname(p, end);
        if (l < 0 || p + l + 4 > end) return {};
        p += l + 4;
    }
    for (int a = get16(buf + 6); a > 0; --a) {
        const int l = dn_skipname(p, end);
        if (l < 0 || p + l + 10 > end) break;
        p += l;
        const std::uint16_t type = get16(p);
        const std::uint16_t rdlen = get16(p + 8);
        p += 10;
        if (p + rdlen > end) break;
        if (type == ns_t_srv && rdlen > 6) {
            char target[NS_MAXDNAME];
            if (dn_expand(buf, end, p + 6, target, sizeof target) >= 0 && target[0] != '\0' &&
                std::string_view(target) != ".")
                found.push_back({get16(p), get16(p + 2), {target, get16(p + 4)}});
        }
        p += rdlen;
    }
    std::stable_sort(found.begin(), found.end(), [](const Srv& x, const Srv& y) {
        return x.priority != y.priority ? x.priority < y.priority : x.weight > y.weight;
    });
    std::vector<Target> out;
    for (auto& s : found) out.push_back(std::move(s.target));
    return out;
}

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

std::string stream_error_text(gloox::StreamError e) {
    switch (e) {
        case gloox::StreamErrorConflict:
            return "conflict (another session took this resource)";
        case gloox::StreamErrorConnectionTimeout:
            return "connection-timeout";
        case gloox::StreamErrorHostUnknown:
            return "host-unknown (the server does not serve this domain)";
        case gloox::StreamErrorNotAuthorized:
            return "not-authorized";
        case gloox::StreamErrorPolicyViolation:
            return "policy-violation";
        case gloox::StreamErrorResourceConstraint:
            return "resource-constraint";
        case gloox::StreamErrorSeeOtherHost:
            return "see-other-host";
        case gloox::StreamErrorSystemShutdown:
            return "system-shutdown";
        case gloox::StreamErrorInternalServerError:
            return "internal-server-error";
        default:
            return fmt::format("condition {}", static_cast<int>(e));
    }
}

std::string auth_error_text(gloox::AuthenticationError e) {
    switch (e) {
        case gloox::SaslNotAuthorized:
            return "not-authorized: wrong JID or password";
        case gloox::SaslTemporaryAuthFailure:
            return "temporary-auth-failure";
        case gloox::SaslMechanismTooWeak:
            return "mechanism-too-weak";
        case gloox::SaslInvalidMechanism:
            return "invalid-mechanism";
        case gloox::SaslAborted:
            return "aborted";
        case gloox::SaslMalformedRequest:
            return "malformed-request";
        default:
            return fmt::format("condition {}", static_cast<int>(e));
    }
}

std::string connection_error_text(gloox::ConnectionError e) {
    switch (e) {
        case gloox::ConnStreamClosed:
            return "the server closed the connection";
        case gloox::ConnIoError:
            return "I/O error on the connection";
        case gloox::ConnParseError:
            return "XML parse error in the stream";
        case gloox::ConnStreamVersionError:
            return "unsupported stream version";
        case gloox::ConnTlsFailed:
            return "TLS handshake failed";
        case gloox::ConnTlsNotAvailable:
            return "the server does not offer TLS (STARTTLS) and plaintext is not allowed";
        case gloox::ConnNoSupportedAuth:
            return "the server offers no SASL mechanism gloox supports";
        case gloox::ConnConnectionRefused:
            return "connection refused";
        case gloox::ConnDnsError:
            return "host not found";
        case gloox::ConnUserDisconnected:
            return "disconnected";
        default:
            return fmt::format("connection error {}", static_cast<int>(e));
    }
}

XmppStanzaError parse_stanza_error(const gloox::Tag& iq) {
    XmppStanzaError e;
    const gloox::Tag* err = iq.findChild("error");
    if (!err) return e;
    e.type = err->findAttribute("type");
    for (const gloox::Tag* c : err->children()) {
        if (c->xmlns() == kStanzasNs) {
            if (c->name() == "text") {
                e.text = c->cdata();
            } else if (e.condition.empty()) {
                e.condition = c->name();
            }
        } else if (c->name() == "upstream-error" && c->xmlns() == kQuoaliseNamespace) {
            XmppUpstreamError u;
            u.issuer = c->findAttribute("issuer");
            if (c->hasAttribute("code")) u.code = c->findAttribute("code");
            e.upstream = std::move(u);
        }
    }
    return e;
}

bool same_jid(const std::string& a, const std::string& b) {
    return gloox::JID(a).full() == gloox::JID(b).full();
}

void split_lines(const std::string& v, std::vector<std::string>& out) {
    std::size_t start = 0;
    for (;;) {
        const std::size_t nl = v.find('\n', start);
        std::string line =
            v.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(std::move(line));
        if (nl == std::string::npos) return;
        start = nl + 1;
    }
}

}  // namespace

std::string_view to_string(XmppState s) {
    switch (s) {
        case XmppState::connecting:
            return "connecting";
        case XmppState::connected:
            return "connected";
        case XmppState::reconnecting:
            return "reconnecting";
        case XmppState::stopped:
            return "stopped";
    }
    return "?";
}

std::string_view to_string(XmppResponse::Status s) {
    switch (s) {
        case XmppResponse::Status::result:
            return "result";
        case XmppResponse::Status::error:
            return "error";
        case XmppResponse::Status::timeout:
            return "timeout";
        case XmppResponse::Status::disconnected:
            return "disconnected";
    }
    return "?";
}

std::unique_ptr<gloox::Tag> adhoc_execute(const std::string& node,
                                          const std::vector<AdhocField>& fields) {
    auto bad = [&](const std::string& what) {
        return std::invalid_argument(
            fmt::format("ad-hoc command {}: {} is not valid UTF-8", node, what));
    };
    auto cmd = std::make_unique<gloox::Tag>("command");
    cmd->setXmlns(std::string(kCommandsNs));
    if (!cmd->addAttribute("node", node)) throw bad("the node");
    cmd->addAttribute("action", "execute");
    auto* x = new gloox::Tag(cmd.get(), "x");
    x->setXmlns(std::string(kDataFormsNs));
    x->addAttribute("type", "submit");
    for (const AdhocField& f : fields) {
        std::string type = f.type;
        if (type.empty())
            type = (f.values.size() != 1 || f.var == "description" || f.var == "service" ||
                    f.var == "processings")
                       ? "text-multi"
                       : "text-single";
        auto* field = new gloox::Tag(x, "field");
        if (!field->addAttribute("var", f.var)) throw bad("field name " + f.var);
        field->addAttribute("type", type);
        std::vector<std::string> values;
        for (const auto& v : f.values) {
            if (type == "text-multi")
                split_lines(v, values);
            else
                values.push_back(v);
        }
        for (const auto& v : values) {
            auto* value = new gloox::Tag(field, "value");
            if (!value->setCData(v)) throw bad("a value of field " + f.var);
        }
    }
    return cmd;
}

// ---- the gloox pieces -------------------------------------------------------

// A TCP connection whose socket we connected ourselves (non-blocking, with a
// deadline). gloox's own recv() select()s (FD_SETSIZE) and its send() may raise
// SIGPIPE: both are replaced.
class XmppSession::Connection final : public gloox::ConnectionTCPClient {
  public:
    Connection(gloox::ConnectionDataHandler* cdh, const gloox::LogSink& log, int fd,
               const std::string& host, int port)
        : gloox::ConnectionTCPClient(cdh, log, host, port), fd_(fd) {}
    ~Connection() override {
        if (fd_ >= 0) ::close(fd_);
    }

    // The base class skips its DNS lookup and connect when it already has a socket.
    gloox::ConnectionError connect() override {
        if (fd_ >= 0) {
            m_socket = fd_;
            fd_ = -1;
        }
        return gloox::ConnectionTCPClient::connect();
    }

    // Called when poll() said the socket is readable: never blocks.
    gloox::ConnectionError recv(int /*timeout*/) override {
        if (m_cancel || m_socket < 0) return gloox::ConnNotConnected;
        const ssize_t n =
            ::recv(m_socket, m_buf, static_cast<std::size_t>(m_bufsize), MSG_DONTWAIT);
        if (n > 0) {
            m_totalBytesIn += n;
            if (m_handler)
                m_handler->handleReceivedData(this,
                                              std::string(m_buf, static_cast<std::size_t>(n)));
            return gloox::ConnNoError;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return gloox::ConnNoError;
        const gloox::ConnectionError e = n == 0 ? gloox::ConnStreamClosed : gloox::ConnIoError;
        if (m_handler) m_handler->handleDisconnect(this, e);
        return e;
    }

    // Blocking (bounded by SO_SNDTIMEO), without SIGPIPE. A failure is only noted:
    // gloox's own send() calls handleDisconnect() from here, i.e. from inside the
    // TLS layer's encrypt() (its push callback); the session loop disconnects from
    // the top instead.
    bool send(const std::string& data) override {
        if (data.empty() || m_socket < 0 || !write_error_.empty()) return false;
        std::size_t done = 0;
        while (done < data.size()) {
            const ssize_t n =
                ::send(m_socket, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                write_error_ = n < 0 ? errno_text(errno) : "nothing written";
                return false;
            }
            done += static_cast<std::size_t>(n);
        }
        m_totalBytesOut += static_cast<long>(data.size());
        return true;
    }

    int fd() const { return m_socket; }
    const std::string& write_error() const { return write_error_; }

  private:
    int fd_;
    std::string write_error_;
};

// TLS for one connection attempt, on GnuTLS directly. gloox 1.0.24's own
// GnuTLS client (TLSDefault) does not fit: its init() loads the system store and
// ignores the CA list, ClientBase::setCACerts() never reaches it, its cleanup()
// (on every disconnect, possibly from inside its own decrypt loop) replaces the
// credentials, dropping anything added, and its destructor leaks the last ones
// with the whole system trust store (~3.5 MB per client, LeakSanitizer). It also
// stops at TLS 1.2. This one trusts exactly `ca_file` (or the system store when
// empty), verifies the certificate and the JID's domain with
// gnutls_certificate_verify_peers3(), offers TLS 1.2 and 1.3, and reports through
// gloox's CertInfo (checked in onTLSConnect).
class XmppTls final : public gloox::TLSBase {
  public:
    XmppTls(gloox::TLSHandler* handler, const std::string& domain, std::string ca_file)
        : gloox::TLSBase(handler, domain), ca_file_(std::move(ca_file)) {}
    ~XmppTls() override {
        if (session_) gnutls_deinit(session_);
        if (creds_) gnutls_certificate_free_credentials(creds_);
    }

    bool init(const std::string& = gloox::EmptyString, const std::string& = gloox::EmptyString,
              const gloox::StringList& = gloox::StringList()) override {
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

    bool encrypt(const std::string& data) override {
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

    int decrypt(const std::string& data) override {
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

    // Called by gloox on disconnect, possibly from inside decrypt(): only marks
    // the session closed; the destructor frees it.
    void cleanup() override {
        closed_ = true;
        m_secure = false;
    }

    bool handshake() override {
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

    // SCRAM-SHA-1-PLUS: gloox 1.0.24 only knows tls-unique, which TLS 1.3 does not define.
    bool hasChannelBinding() const override {
        return m_secure && gnutls_protocol_get_version(session_) == GNUTLS_TLS1_2;
    }
    const std::string channelBinding() const override {
        gnutls_datum_t cb{};
        if (!hasChannelBinding() ||
            gnutls_session_channel_binding(session_, GNUTLS_CB_TLS_UNIQUE, &cb) < 0)
            return {};
        std::string out(reinterpret_cast<const char*>(cb.data), cb.size);
        gnutls_free(cb.data);
        return out;
    }

    void setCACerts(const gloox::StringList&) override {}  // the CA file is given to the ctor
    void setClientCert(const std::string&, const std::string&) override {}

    const std::string& error() const { return error_; }

  private:
    void fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
        closed_ = true;
    }

    void fill_cert_info() {
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

    static ssize_t push(gnutls_transport_ptr_t p, const void* data, std::size_t len) {
        auto* self = static_cast<XmppTls*>(p);
        if (self->m_handler)
            self->m_handler->handleEncryptedData(self,
                                                 std::string(static_cast<const char*>(data), len));
        return static_cast<ssize_t>(len);
    }

    static ssize_t pull(gnutls_transport_ptr_t p, void* data, std::size_t len) {
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

    std::string ca_file_;
    gnutls_certificate_credentials_t creds_ = nullptr;
    gnutls_session_t session_ = nullptr;
    std::string in_;  // ciphertext received, not yet consumed by GnuTLS
    bool closed_ = false;
    std::string error_;
};

std::unique_ptr<gloox::TLSBase> make_xmpp_tls(gloox::TLSHandler* client, const std::string& domain,
                                              const std::string& ca_file) {
    return std::make_unique<XmppTls>(client, domain, ca_file);
}

// The gloox client of one connection attempt. Received bytes reach gloox's
// parser through handleReceivedData() (plaintext, or TLS records for the TLS
// layer) and handleDecryptedData() (the TLS layer's output; compression is
// off): both pass the XML through the guard first, and once it refuses, nothing
// more reaches gloox; the session loop then ends the connection. Every incoming
// top-level element passes through handleTag() before gloox turns it into a
// Stanza (which drops the children gloox has no StanzaExtension for, e.g.
// <quoalise>): ours are taken there as raw Tags.
class XmppSession::Client final : public gloox::Client,
                                  public gloox::ConnectionListener,
                                  public gloox::LogHandler {
  public:
    Client(XmppSession& s, const gloox::JID& jid, const std::string& password)
        : gloox::Client(jid, password), s_(s), guard_(s.config_.input_limits) {
        registerConnectionListener(this);
        // Warnings and errors only: debug output holds the stream, SASL included.
        logInstance().registerLogHandler(gloox::LogLevelWarning, gloox::LogAreaAll, this);
    }

    // Why the guard refused the server's XML ("" while it has not).
    const std::string& refused() const { return guard_.error(); }

    void handleReceivedData(const gloox::ConnectionBase* c, const std::string& data) override {
        const bool tls_records = m_encryption && m_encryptionActive;
        if (!tls_records && !guard_.feed(data)) return;
        gloox::Client::handleReceivedData(c, data);
    }
    void handleDecryptedData(const gloox::TLSBase* b, const std::string& data) override {
        if (!guard_.feed(data)) return;
        gloox::Client::handleDecryptedData(b, data);
    }

    void handleTag(gloox::Tag* tag) override {
        if (tag && s_.on_stanza(tag)) return;
        gloox::Client::handleTag(tag);
    }
    void onConnect() override { s_.on_connect(); }
    void onDisconnect(gloox::ConnectionError e) override { s_.on_disconnect(e); }
    bool onTLSConnect(const gloox::CertInfo& info) override {
        return s_.on_tls(info.status, info.issuer, info.server, info.protocol);
    }
    void handleLog(gloox::LogLevel, gloox::LogArea, const std::string& message) override {
        spdlog::debug("{}: gloox: {}", s_.config_.name, message);
    }

  private:
    XmppSession& s_;
    XmppStreamGuard guard_;
};

struct XmppSession::Queued {
    std::string to;
    IqType type = IqType::set;
    std::unique_ptr<gloox::Tag> payload;
    Clock::time_point deadline;
    milliseconds timeout{};
    XmppCallback done;
};

struct XmppSession::Pending {
    std::string to;
    Clock::time_point deadline;
    milliseconds timeout{};
    XmppCallback done;
};

// ---- XmppSession -------------------------------------------------------------

XmppSession::XmppSession(XmppSessionConfig config, XmppHandlers handlers)
    : config_(std::move(config)), handlers_(std::move(handlers)) {
    const gloox::JID jid(config_.jid);
    if (!jid || jid.username().empty() || jid.server().empty())
        throw std::invalid_argument(fmt::format(
            "{}: jid '{}' is not of the form user@domain[/resource]", config_.name, config_.jid));
    domain_ = jid.server();
    if (config_.allow_plaintext && !is_loopback(config_.server))
        throw std::invalid_argument(
            fmt::format("{}: plaintext XMPP is only allowed towards a loopback server, not '{}'",
                        config_.name, config_.server.empty() ? domain_ : config_.server));
    if (config_.ping_interval <= 0ms || config_.ping_timeout <= 0ms ||
        config_.connect_timeout <= 0ms || config_.backoff_initial <= 0ms)
        throw std::invalid_argument(config_.name + ": XMPP timers must be positive");
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0)
        throw std::runtime_error(fmt::format("{}: eventfd: {}", config_.name, errno_text(errno)));
}

XmppSession::~XmppSession() {
    stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void XmppSession::start() {
    if (thread_.joinable()) return;
    stop_requested_ = false;
    failures_ = 0;
    {
        std::lock_guard lk(mu_);
        running_ = true;
    }
    health_.update([](XmppHealth& h) { h.state = XmppState::connecting; });
    if (config_.tls_insecure)
        spdlog::warn("{}: TLS certificate and host name verification are OFF (tls_insecure)",
                     config_.name);
    thread_ = std::thread([this] { run(); });
}

void XmppSession::stop() {
    stop_requested_ = true;
    wake();
    if (!thread_.joinable() || thread_.get_id() == std::this_thread::get_id()) return;
    thread_.join();
}

XmppHealth XmppSession::health() const {
    return health_.get();
}

void XmppSession::request(const std::string& to, std::unique_ptr<gloox::Tag> payload,
                          milliseconds timeout, XmppCallback done, IqType type) {
    auto q = std::make_unique<Queued>();
    q->to = to;
    q->type = type;
    q->payload = std::move(payload);
    q->timeout = timeout;
    q->deadline = Clock::now() + timeout;
    q->done = std::move(done);
    {
        std::lock_guard lk(mu_);
        if (running_ && !stop_requested_) {
            queue_.push_back(std::move(q));
            q = nullptr;
        }
    }
    if (!q) {
        wake();
        return;
    }
    XmppResponse r;
    r.status = XmppResponse::Status::disconnected;
    r.detail = "the XMPP session is not running";
    complete(q->done, std::move(r));
}

void XmppSession::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

void XmppSession::drain_wake() {
    std::uint64_t v = 0;
    [[maybe_unused]] const auto n = ::read(wake_fd_, &v, sizeof v);
}

void XmppSession::set_state(XmppState s, std::string detail) {
    const bool changed = health_.update([&](XmppHealth& h) {
        const bool c = h.state != s;
        h.state = s;
        if (s == XmppState::connected) h.jid = detail;
        if (s != XmppState::connected) h.jid.clear();
        return c;
    });
    if (changed && handlers_.state) {
        try {
            handlers_.state(s, detail);
        } catch (const std::exception& e) {
            spdlog::error("{}: state handler threw: {}", config_.name, e.what());
        }
    }
}

void XmppSession::set_error(std::string error) {
    health_.update([&](XmppHealth& h) { h.last_error = std::move(error); });
}

void XmppSession::complete(XmppCallback& cb, XmppResponse r) {
    if (!cb) return;
    try {
        cb(std::move(r));
    } catch (const std::exception& e) {
        spdlog::error("{}: request callback threw: {}", config_.name, e.what());
    } catch (...) {
        spdlog::error("{}: request callback threw", config_.name);
    }
}

milliseconds XmppSession::next_backoff() {
    static thread_local std::mt19937 rng{std::random_device{}()};
    const std::int64_t initial = config_.backoff_initial.count();
    const std::int64_t cap = std::max(initial, config_.backoff_max.count());
    const std::int64_t base = std::min<std::int64_t>(cap, initial << std::min(failures_, 16));
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    ++failures_;
    return milliseconds(static_cast<std::int64_t>(static_cast<double>(base) * jitter(rng)));
}

void XmppSession::run() {
    // Belt and braces: our sends use MSG_NOSIGNAL; a stray SIGPIPE stays pending here.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

    bool first = true;
    while (!stop_requested_) {
        set_state(first ? XmppState::connecting : XmppState::reconnecting, "");
        first = false;
        session();
        if (stop_requested_) break;
        wait_backoff();
    }
    {
        std::lock_guard lk(mu_);
        running_ = false;
    }
    fail_all_pending("the XMPP session stopped");
    fail_queued("the XMPP session stopped");
    set_state(XmppState::stopped, "stopped");
}

void XmppSession::wait_backoff() {
    const auto wait = next_backoff();
    const std::string why = health().last_error;
    spdlog::info("{}: reconnecting in {} ms ({})", config_.name, wait.count(), why);
    set_state(XmppState::reconnecting, why);
    const auto until = Clock::now() + wait;
    while (!stop_requested_) {
        flush_queue(false);
        const auto now = Clock::now();
        if (now >= until) break;
        pollfd p{wake_fd_, POLLIN, 0};
        ::poll(&p, 1, poll_ms(until - now));
        drain_wake();
    }
}

int XmppSession::tcp_connect(std::string& error) {
    std::vector<Target> targets;
    if (!config_.server.empty()) {
        targets.push_back({config_.server, config_.port ? config_.port : std::uint16_t{5222}});
    } else {
        targets = srv_targets(domain_);
        if (config_.port)
            for (auto& t : targets) t.port = config_.port;
        if (targets.empty())
            targets.push_back({domain_, config_.port ? config_.port : std::uint16_t{5222}});
    }
    const auto deadline = Clock::now() + config_.connect_timeout;
    std::vector<std::string> errors;
    for (const Target& t : targets) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        const std::string port = std::to_string(t.port);
        if (const int rc = ::getaddrinfo(t.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
            errors.push_back(fmt::format("{}: {}", t.host, ::gai_strerror(rc)));
            continue;
        }
        for (const addrinfo* ai = res; ai; ai = ai->ai_next) {
            const int fd =
                ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                errors.push_back(fmt::format("socket: {}", errno_text(errno)));
                continue;
            }
            int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
            int err = rc == 0 ? 0 : errno;
            while (err == EINPROGRESS && !stop_requested_) {
                const auto now = Clock::now();
                if (now >= deadline) {
                    err = ETIMEDOUT;
                    break;
                }
                pollfd p[2] = {{fd, POLLOUT, 0}, {wake_fd_, POLLIN, 0}};
                ::poll(p, 2, poll_ms(deadline - now));
                if (p[1].revents) drain_wake();
                if (p[0].revents) {
                    socklen_t len = sizeof err;
                    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                }
            }
            if (err == 0 && !stop_requested_) {
                ::freeaddrinfo(res);
                // Blocking from now on; a stalled peer cannot block a send for long.
                ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
                timeval tv{};
                tv.tv_sec = std::max<std::int64_t>(
                    1, duration_cast<seconds>(config_.connect_timeout).count());
                ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                const int on = 1;
                ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
                spdlog::debug("{}: TCP connected to {}:{}", config_.name, t.host, t.port);
                return fd;
            }
            ::close(fd);
            if (stop_requested_) {
                ::freeaddrinfo(res);
                error = "stopped";
                return -1;
            }
            errors.push_back(fmt::format("{}:{}: {}", t.host, t.port, errno_text(err)));
        }
        ::freeaddrinfo(res);
    }
    error = fmt::format("cannot connect: {}", fmt::join(errors, "; "));
    return -1;
}

void XmppSession::session() {
    std::string error;
    const int fd = tcp_connect(error);
    if (fd < 0) {
        if (!stop_requested_) {
            spdlog::warn("{}: {}", config_.name, error);
            set_error(error);
        }
        return;
    }
    connected_ = false;
    lost_ = false;
    lost_reason_.clear();
    ping_id_.clear();

    const gloox::JID jid(config_.jid);
    client_ = std::make_unique<Client>(*this, jid, config_.password);
    client_->setTls(config_.allow_plaintext ? gloox::TLSOptional : gloox::TLSRequired);
    client_->setCompression(false);
    client_->disableRoster();  // consent comes from the proxy, not from contacts
    tls_ = new XmppTls(client_.get(), domain_, config_.ca_file);
    client_->setEncryptionImpl(tls_);  // the client owns it
    if (!tls_->init()) {
        const std::string why = "TLS: " + tls_->error();
        spdlog::warn("{}: {}", config_.name, why);
        set_error(why);
        client_.reset();
        tls_ = nullptr;
        ::close(fd);
        return;
    }
    const std::string host = config_.server.empty() ? domain_ : config_.server;
    auto* conn = new Connection(client_.get(), client_->logInstance(), fd, host,
                                config_.port ? config_.port : 5222);
    client_->setConnectionImpl(conn);  // the client owns it

    const auto login_deadline = Clock::now() + config_.connect_timeout;
    if (!client_->connect(false) && !lost_) {
        lost_ = true;
        lost_reason_ = "gloox refused to connect";
    }
    while (!lost_) {
        if (!client_->refused().empty()) {
            lost_reason_ = "the server sent " + client_->refused();
            // RFC 6120 4.9.3.18; then the stream ends as on a deliberate disconnect.
            auto* refusal = new gloox::Tag("stream:error");
            new gloox::Tag(refusal, "policy-violation", "xmlns", std::string(kStreamsErrorNs));
            client_->send(refusal);
            client_->disconnect();
            break;
        }
        if (!conn->write_error().empty() || !tls_->error().empty()) {
            lost_reason_ = conn->write_error().empty()
                               ? tls_->error()
                               : "cannot write to the server: " + conn->write_error();
            client_->disconnect();
            break;
        }
        if (stop_requested_) {
            lost_reason_ = "stopped";
            client_->disconnect();
            break;
        }
        const auto now = Clock::now();
        if (!connected_ && now >= login_deadline) {
            lost_reason_ = fmt::format("no session within {} ms (TLS, SASL, bind)",
                                       config_.connect_timeout.count());
            client_->disconnect();
            break;
        }
        flush_queue(connected_);
        expire_pending();
        if (connected_ && ping_id_.empty() && now >= next_ping_) {
            ping_id_ = client_->getID();
            auto* iq = new gloox::Tag("iq");
            iq->addAttribute("type", "get");
            iq->addAttribute("to", domain_);
            iq->addAttribute("id", ping_id_);
            new gloox::Tag(iq, "ping", "xmlns", std::string(kPingNs));
            ping_deadline_ = now + config_.ping_timeout;
            client_->send(iq);
        } else if (!ping_id_.empty() && now >= ping_deadline_) {
            lost_reason_ = fmt::format("the server did not answer an XMPP ping within {} ms",
                                       config_.ping_timeout.count());
            client_->disconnect();
            break;
        }
        if (lost_) break;

        auto wake_at =
            connected_ ? (ping_id_.empty() ? next_ping_ : ping_deadline_) : login_deadline;
        for (const auto& [id, p] : pending_) wake_at = std::min(wake_at, p->deadline);
        {
            std::lock_guard lk(mu_);
            for (const auto& q : queue_) wake_at = std::min(wake_at, q->deadline);
        }
        const int sock = conn->fd();
        pollfd p[2] = {{sock, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        const int n = ::poll(p, 2, poll_ms(wake_at - Clock::now()));
        if (n < 0 && errno != EINTR) {
            lost_reason_ = fmt::format("poll: {}", errno_text(errno));
            client_->disconnect();
            break;
        }
        if (p[1].revents) drain_wake();
        if (p[0].revents) client_->recv(0);
    }

    const bool was_connected = connected_;
    connected_ = false;
    const std::string reason = lost_reason_.empty() ? "connection lost" : lost_reason_;
    if (!stop_requested_) {
        set_error(reason);
        if (was_connected)
            spdlog::warn("{}: XMPP session lost: {}", config_.name, reason);
        else
            spdlog::warn("{}: XMPP connection failed: {}", config_.name, reason);
        // Before the callbacks: who learns of the loss from one sees it in health().
        set_state(XmppState::reconnecting, reason);
    }
    fail_all_pending("disconnected before the answer came: " + reason);
    client_.reset();  // closes the socket
    tls_ = nullptr;
    if (was_connected && !stop_requested_) health_.update([](XmppHealth& h) { h.reconnects++; });
}

void XmppSession::flush_queue(bool connected) {
    std::deque<std::unique_ptr<Queued>> work;
    {
        std::lock_guard lk(mu_);
        work.swap(queue_);
    }
    std::deque<std::unique_ptr<Queued>> keep;
    const auto now = Clock::now();
    for (auto& q : work) {
        if (now >= q->deadline) {
            XmppResponse r;
            r.status = XmppResponse::Status::timeout;
            r.detail = fmt::format("not sent within {} ms: no XMPP session ({})",
                                   q->timeout.count(), health().last_error);
            complete(q->done, std::move(r));
        } else if (connected && !lost_) {
            const std::string id = client_->getID();
            auto* iq = new gloox::Tag("iq");
            iq->addAttribute("type", q->type == IqType::set ? "set" : "get");
            iq->addAttribute("to", q->to);
            iq->addAttribute("id", id);
            if (q->payload) iq->addChild(q->payload.release());
            auto p = std::make_unique<Pending>();
            p->to = q->to;
            p->deadline = q->deadline;
            p->timeout = q->timeout;
            p->done = std::move(q->done);
            pending_.emplace(id, std::move(p));
            client_->send(iq);  // deletes the tag; a failed send ends the session
        } else {
            keep.push_back(std::move(q));
        }
    }
    if (!keep.empty()) {
        std::lock_guard lk(mu_);
        for (auto& q : queue_) keep.push_back(std::move(q));
        queue_.swap(keep);
    }
}

void XmppSession::expire_pending() {
    const auto now = Clock::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (now < it->second->deadline) {
            ++it;
            continue;
        }
        auto p = std::move(it->second);
        XmppResponse r;
        r.status = XmppResponse::Status::timeout;
        r.id = it->first;
        r.detail = fmt::format("no answer from {} within {} ms", p->to, p->timeout.count());
        it = pending_.erase(it);
        complete(p->done, std::move(r));
    }
}

void XmppSession::fail_all_pending(const std::string& detail) {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, p] : pending) {
        XmppResponse r;
        r.status = XmppResponse::Status::disconnected;
        r.id = id;
        r.detail = detail;
        complete(p->done, std::move(r));
    }
}

void XmppSession::fail_queued(const std::string& detail) {
    std::deque<std::unique_ptr<Queued>> work;
    {
        std::lock_guard lk(mu_);
        work.swap(queue_);
    }
    for (auto& q : work) {
        XmppResponse r;
        r.status = XmppResponse::Status::disconnected;
        r.detail = detail;
        complete(q->done, std::move(r));
    }
}

// ---- gloox callbacks ---------------------------------------------------------

bool XmppSession::on_stanza(const gloox::Tag* tag) {
    const std::string& name = tag->name();
    if (name == "iq") {
        const std::string& type = tag->findAttribute("type");
        if (type != "result" && type != "error") return false;
        const std::string& id = tag->findAttribute("id");
        const std::string& from = tag->findAttribute("from");
        if (!ping_id_.empty() && id == ping_id_ &&
            (from.empty() || gloox::JID(from).full() == domain_)) {
            // Any answer, even an error, shows the server is alive.
            ping_id_.clear();
            next_ping_ = Clock::now() + config_.ping_interval;
            return true;
        }
        const auto it = pending_.find(id);
        if (it == pending_.end()) return false;
        if (!same_jid(from, it->second->to)) {
            spdlog::warn("{}: ignoring an answer to iq {} from {} (sent to {})", config_.name, id,
                         from, it->second->to);
            return true;
        }
        auto p = std::move(it->second);
        pending_.erase(it);
        XmppResponse r;
        r.id = id;
        r.xml = tag->xml();
        if (type == "result") {
            r.status = XmppResponse::Status::result;
            r.detail = "result from " + from;
        } else {
            r.status = XmppResponse::Status::error;
            r.error = parse_stanza_error(*tag);
            r.detail = fmt::format(
                "error from {}: {}{}{}{}", from,
                r.error.condition.empty() ? "?" : r.error.condition,
                r.error.text.empty() ? "" : ": " + r.error.text,
                r.error.upstream ? " (upstream " + r.error.upstream->issuer : "",
                r.error.upstream
                    ? (r.error.upstream->code ? " " + *r.error.upstream->code + ")" : ")")
                    : "");
        }
        complete(p->done, std::move(r));
        return true;
    }
    if (name == "message") {
        if (tag->findAttribute("type") == "error") return false;
        const gloox::Tag* x = tag->findChild("x", "xmlns", std::string(kAuthorizeNamespace));
        if (!x) return false;
        XmppConsentMessage m;
        m.from = tag->findAttribute("from");
        m.xml = tag->xml();
        m.extension = x->xml();
        if (handlers_.consent) {
            try {
                handlers_.consent(std::move(m));
            } catch (const std::exception& e) {
                spdlog::error("{}: consent handler threw: {}", config_.name, e.what());
            }
        } else {
            spdlog::warn("{}: consent message from {} and no handler", config_.name, m.from);
        }
        return true;
    }
    return false;
}

void XmppSession::on_connect() {
    connected_ = true;
    failures_ = 0;
    next_ping_ = Clock::now() + config_.ping_interval;
    const std::string bound = client_->jid().full();
    health_.update([](XmppHealth& h) { h.connects++; });
    spdlog::info("{}: XMPP session established as {}", config_.name, bound);
    set_state(XmppState::connected, bound);
}

void XmppSession::on_disconnect(int error) {
    lost_ = true;
    if (!lost_reason_.empty()) return;  // ours: stop, ping timeout, certificate refused
    const auto e = static_cast<gloox::ConnectionError>(error);
    if (e == gloox::ConnAuthenticationFailed) {
        lost_reason_ = "authentication failed: " +
                       auth_error_text(client_ ? client_->authError() : gloox::AuthErrorUndefined);
    } else if (e == gloox::ConnStreamError && client_) {
        const std::string& text = client_->streamErrorText();
        lost_reason_ = "stream error: " + stream_error_text(client_->streamError()) +
                       (text.empty() ? "" : " (" + text + ")");
    } else if (e == gloox::ConnTlsFailed && tls_ && !tls_->error().empty()) {
        lost_reason_ = tls_->error();
    } else {
        lost_reason_ = connection_error_text(e);
    }
}

bool XmppSession::on_tls(int status, const std::string& issuer, const std::string& subject,
                         const std::string& protocol) {
    if (config_.tls_insecure) {
        if (status != gloox::CertOk)
            spdlog::warn("{}: accepting an unverified certificate ({}) (tls_insecure)",
                         config_.name, subject);
        return true;
    }
    std::vector<std::string> why;
    const int untrusted = gloox::CertInvalid | gloox::CertSignerUnknown | gloox::CertRevoked |
                          gloox::CertExpired | gloox::CertNotActive | gloox::CertSignerNotCa;
    if (status & untrusted)
        why.push_back(fmt::format(
            "the server certificate is not trusted: {} (trust anchors: the system store{})",
            cert_problems(status), config_.ca_file.empty() ? "" : " and " + config_.ca_file));
    if (status & gloox::CertWrongPeer)
        why.push_back(
            fmt::format("the server certificate is not valid for host name '{}'", domain_));
    if (protocol == "SSL3.0" || protocol == "TLS1.0" || protocol == "TLS1.1" ||
        protocol == "TLSv1" || protocol == "TLSv1.1")
        why.push_back("the server negotiated " + protocol + ", 1.2 or newer is required");
    if (why.empty()) {
        spdlog::debug("{}: TLS {} with {}, certificate {} issued by {}", config_.name, protocol,
                      config_.server.empty() ? domain_ : config_.server, subject, issuer);
        return true;
    }
    lost_reason_ = fmt::format("TLS refused: {} (subject '{}', issuer '{}')", fmt::join(why, "; "),
                               subject, issuer);
    return false;
}

}  // namespace mb
