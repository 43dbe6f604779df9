// XmppSession: one XMPP client session (gloox) on a thread it owns, for the
// connectors that speak XMPP (the Enedis DataConnect proxy, XEP-0050 ad-hoc
// commands). It connects, keeps the session alive and hands out request/
// response pairs; what the stanzas mean is the connector's business.
//
// Connection: TCP to `server`:`port` when set, else to the targets of the
// domain's _xmpp-client._tcp SRV records, else to the domain on 5222 (our own
// non-blocking connect with a deadline, which stop() interrupts; DNS lookups
// block: xmpp_connection.h). STARTTLS is required (gloox TLSRequired), TLS 1.2
// or 1.3 through XmppTls (not gloox's TLSDefault, see xmpp_tls.h); the server
// certificate is verified against exactly `ca_file` (the system store when
// empty) and the JID's domain (RFC 6120), even when `server` is an address: an
// untrusted certificate or one for another name ends the attempt, unless
// `tls_insecure` (tests). SASL takes whatever the server offers that gloox
// supports (SCRAM-SHA-1-PLUS over TLS 1.2, SCRAM-SHA-1 over TLS 1.3).
//
// Input limits: every byte from the server, before STARTTLS and decrypted after
// it, passes an XmppStreamGuard before gloox parses it (gloox builds and frees
// its trees recursively: a deeply nested stanza would crash the process). XML
// nested deeper than `input_limits` allow (64 levels, the stream's root
// included) or a larger stanza (4 MiB) ends the connection: gloox never sees
// those bytes, the server gets a policy-violation stream error, the reason
// ("the server sent …") is logged and kept in health(), and the session
// reconnects as after any loss.
//
// Liveness: an XMPP ping (XEP-0199) to the server every `ping_interval`; no
// answer within `ping_timeout` drops the connection. Reconnects: exponential
// backoff (1 s doubling to 60 s, ±20 % jitter), counted in health().
//
// Requests: request() sends <iq type="set|get" to=… id=…> with the given
// payload and calls back exactly once: with the result stanza as XML text,
// with the error (type="error": condition, <text> and the application-specific
// conditions, see xmpp_stanza_codec.h), on its own deadline (gloox has none),
// or "disconnected" when the connection drops after the request left (the
// answer can never come) or the session stops. A request made while no
// session is up waits in the queue until one is, or until its deadline.
//
// Messages: an incoming <message> (not type="error") with a child element in
// the namespace the connector names (XmppMessageHandler) goes to its handler;
// others are left to gloox, which drops them.
//
// Threads: one gloox::Client per connection attempt, created, used and
// destroyed on the session thread only. request() and health() may be called
// from any thread; callbacks run on the session thread (or on the caller's,
// when the session is not running) and must not block. stop() must not be
// called from a callback.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "connectors/connector_health.h"
#include "connectors/xmpp/xmpp_client.h"
#include "connectors/xmpp/xmpp_stanza_codec.h"
#include "connectors/xmpp/xmpp_stream_guard.h"

namespace gloox {
class Tag;
}  // namespace gloox

namespace mb {

struct XmppSessionConfig {
    std::string name = "xmpp";     // for logs: the connector's name
    std::string jid;               // localpart@domain/resource (resource optional)
    std::string password;          // the secret itself (read from password_file by the caller)
    std::string server;            // "": the domain's SRV records, else the domain itself
    std::uint16_t port = 0;        // 0: 5222 (with `server`) or the SRV record's port
    std::string ca_file;           // PEM trust anchors; "": the system store
    bool allow_plaintext = false;  // TLS optional; refused unless `server` is a loopback address
    bool tls_insecure = false;     // tests only: accept any certificate and host name
    std::chrono::milliseconds ping_interval{60000};
    std::chrono::milliseconds ping_timeout{20000};
    std::chrono::milliseconds connect_timeout{20000};  // TCP + TLS + SASL + bind
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{60000};
    // What the server may send. The largest answer asked for, a 7-day load
    // curve, is some 13 KB at 30-minute steps, 0.4 MB at 1-minute steps.
    XmppStreamLimits input_limits;
};

enum class XmppState : std::uint8_t { connecting, connected, reconnecting, stopped };
std::string_view to_string(XmppState s);

struct XmppHealth {
    XmppState state = XmppState::stopped;
    std::string last_error;        // why the last attempt or session ended ("" if none yet)
    std::string jid;               // the bound full JID while connected
    std::uint64_t connects = 0;    // sessions established
    std::uint64_t reconnects = 0;  // sessions lost and attempts failed (each followed by another)
};

struct XmppResponse {
    enum class Status : std::uint8_t { result, error, timeout, disconnected };
    Status status = Status::disconnected;
    std::string xml;        // the whole <iq> as received (result and error)
    XmppStanzaError error;  // status == error
    std::string detail;     // one line for logs and health
    std::string id;         // the iq id ("" when it was never sent)
};
std::string_view to_string(XmppResponse::Status s);
using XmppCallback = std::function<void(XmppResponse)>;

// An incoming <message> with a child element in the handler's namespace (e.g.
// a consent notification). The session does not filter senders: the connector
// compares `from` with the JID it expects.
struct XmppMessage {
    std::string from;       // full JID of the sender
    std::string xml;        // the whole <message>
    std::string extension;  // the child element alone
};

struct XmppMessageHandler {
    std::string name;                         // the child element's name, e.g. "x"
    std::string xmlns;                        // its namespace; "": no message is taken
    std::string what;                         // for logs, e.g. "consent"
    std::function<void(XmppMessage)> handle;  // session thread
};

struct XmppHandlers {
    XmppMessageHandler message;
    std::function<void(XmppState, const std::string&)> state;  // session thread, on each change
};

class XmppTls;

class XmppSession final : private XmppClientEvents {
  public:
    enum class IqType : std::uint8_t { set, get };

    // Throws std::invalid_argument for a config it cannot use (bad JID,
    // plaintext towards a non-loopback server).
    XmppSession(XmppSessionConfig config, XmppHandlers handlers = {});
    ~XmppSession();
    XmppSession(const XmppSession&) = delete;
    XmppSession& operator=(const XmppSession&) = delete;

    void start();  // returns at once; idempotent
    void stop();   // idempotent; joins; fails what is pending with "disconnected"

    XmppHealth health() const;

    // Any thread. Sends <iq type to id>payload</iq> (payload: one element, e.g.
    // adhoc_execute()) to a full JID; `done` is called exactly once.
    void request(const std::string& to, std::unique_ptr<gloox::Tag> payload,
                 std::chrono::milliseconds timeout, XmppCallback done, IqType type = IqType::set);

  private:
    struct Queued;
    struct Pending;

    void run();
    // One connection attempt and, if it succeeds, the session until it ends.
    void session();
    // Sends the queued requests (connected) or expires them.
    void flush_queue(bool connected);
    void expire_pending();
    void fail_all_pending(const std::string& detail);
    void fail_queued(const std::string& detail);
    void wait_backoff();
    std::chrono::milliseconds next_backoff();
    void wake();
    void drain_wake();
    void set_state(XmppState s, std::string detail);
    void set_error(std::string error);
    void complete(XmppCallback& cb, XmppResponse r);

    // gloox callbacks (session thread, from inside the client).
    bool on_stanza(const gloox::Tag* tag) override;
    void on_connect() override;
    void on_disconnect(int error) override;
    bool on_tls(int status, const std::string& issuer, const std::string& subject,
                const std::string& protocol) override;

    XmppSessionConfig config_;
    XmppHandlers handlers_;
    std::string domain_;
    int wake_fd_ = -1;

    // Session thread only.
    std::unique_ptr<XmppClient> client_;
    XmppTls* tls_ = nullptr;  // owned by client_
    bool connected_ = false;
    bool lost_ = false;        // the client reported a disconnect
    std::string lost_reason_;  // set before a deliberate disconnect or by on_tls
    std::map<std::string, std::unique_ptr<Pending>> pending_;  // sent, by iq id
    std::string ping_id_;
    std::chrono::steady_clock::time_point next_ping_{}, ping_deadline_{};
    int failures_ = 0;

    std::atomic<bool> stop_requested_{false};
    mutable std::mutex mu_;  // queue_
    std::deque<std::unique_ptr<Queued>> queue_;
    HealthCell<XmppHealth> health_;
    bool running_ = false;  // guarded by mu_: request() hands work to the thread
    std::thread thread_;
};

}  // namespace mb
