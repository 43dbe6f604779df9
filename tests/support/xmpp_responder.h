// A second XMPP client for the tests, playing the DataConnect proxy: it
// answers XEP-0050 ad-hoc command IQs by node with a canned result, an iq
// error (with or without <upstream-error>), or never; and sends messages
// (consent notifications) on request. One gloox client on its own thread,
// reconnecting by itself (every 100 ms) when the server goes away. TLS is
// not verified here: this is the test's side.
//
// Meant to grow into the fake DataConnect proxy of the enedis connector tests.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mb::test {

struct XmppResponderConfig {
    std::string jid;  // full JID, e.g. proxy@meterbridge.test/proxy
    std::string password;
    std::string host = "127.0.0.1";
    std::uint16_t port = 5222;
    std::string ca_file;
};

struct XmppReply {
    enum class Kind : std::uint8_t { result, error, silent };
    Kind kind = Kind::result;
    // result: XML placed inside the answer's <command status="completed">.
    std::string payload_xml;
    // error:
    std::string error_type = "cancel";
    std::string condition = "undefined-condition";
    std::string text;
    std::optional<std::string> upstream_issuer;  // adds <upstream-error xmlns="urn:quoalise:0">
    std::optional<std::string> upstream_code;

    static XmppReply result(std::string payload_xml);
    static XmppReply error(std::string text, std::optional<std::string> issuer = std::nullopt,
                           std::optional<std::string> code = std::nullopt);
    static XmppReply silent();
};

class XmppResponder {
  public:
    explicit XmppResponder(XmppResponderConfig config);
    ~XmppResponder();
    XmppResponder(const XmppResponder&) = delete;
    XmppResponder& operator=(const XmppResponder&) = delete;

    // How to answer commands with this node (any thread). Unknown nodes get
    // an item-not-found error.
    void on_command(const std::string& node, XmppReply reply);
    // Same, computed from the request's <iq> (the fake proxy answers by window).
    // Called on the responder's thread.
    void on_command(const std::string& node, std::function<XmppReply(const std::string&)> fn);

    bool connected() const { return connected_; }
    bool wait_connected(std::chrono::milliseconds timeout) const;
    const std::string& jid() const { return config_.jid; }

    // Queues a raw stanza; sent by the responder's thread once connected.
    void send_raw(std::string xml);
    // A consent notification as the proxy sends it: a chat <message> with a
    // body and <x xmlns="https://consometers.org/dataconnect#authorize">.
    void send_consent(const std::string& to, const std::vector<std::string>& usage_points,
                      const std::string& state);

    // The <iq> of every command received, in order.
    std::vector<std::string> requests() const;

    static std::string escape(const std::string& s);

  private:
    class Client;
    void run();
    void on_iq(const std::string& from, const std::string& id, const std::string& node,
               const std::string& xml, std::string& answer);

    XmppResponderConfig config_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> connected_{false};
    mutable std::mutex mu_;
    std::map<std::string, XmppReply> replies_;
    std::map<std::string, std::function<XmppReply(const std::string&)>> computed_;
    std::deque<std::string> outbox_;
    std::vector<std::string> requests_;
    std::thread thread_;
};

}  // namespace mb::test
