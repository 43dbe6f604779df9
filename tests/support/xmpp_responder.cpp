#include "tests/support/xmpp_responder.h"

#include <fmt/format.h>
#include <gloox/client.h>
#include <gloox/connectionlistener.h>
#include <gloox/connectiontcpclient.h>
#include <gloox/jid.h>
#include <gloox/tag.h>
#include <gloox/tlsbase.h>
#include <signal.h>

#include "connectors/xmpp/xmpp_tls.h"

namespace mb::test {

using namespace std::chrono_literals;

namespace {
constexpr const char* kCommandsNs = "http://jabber.org/protocol/commands";
}

XmppReply XmppReply::result(std::string payload_xml) {
    XmppReply r;
    r.kind = Kind::result;
    r.payload_xml = std::move(payload_xml);
    return r;
}

XmppReply XmppReply::error(std::string text, std::optional<std::string> issuer,
                           std::optional<std::string> code) {
    XmppReply r;
    r.kind = Kind::error;
    r.text = std::move(text);
    r.upstream_issuer = std::move(issuer);
    r.upstream_code = std::move(code);
    return r;
}

XmppReply XmppReply::silent() {
    XmppReply r;
    r.kind = Kind::silent;
    return r;
}

std::string XmppResponder::escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '\'':
                out += "&apos;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// Commands are taken as raw Tags before gloox makes a Stanza of them.
class XmppResponder::Client final : public gloox::Client, public gloox::ConnectionListener {
  public:
    Client(XmppResponder& r, const gloox::JID& jid, const std::string& password)
        : gloox::Client(jid, password), r_(r) {
        registerConnectionListener(this);
    }

    void handleTag(gloox::Tag* tag) override {
        if (tag && tag->name() == "iq" && tag->findAttribute("type") == "set") {
            if (const gloox::Tag* cmd = tag->findChild("command", "xmlns", kCommandsNs)) {
                std::string answer;
                r_.on_iq(tag->findAttribute("from"), tag->findAttribute("id"),
                         cmd->findAttribute("node"), tag->xml(), answer);
                if (!answer.empty()) send(answer);
                return;
            }
        }
        gloox::Client::handleTag(tag);
    }
    void onConnect() override { r_.connected_ = true; }
    void onDisconnect(gloox::ConnectionError) override {
        r_.connected_ = false;
        lost = true;
    }
    bool onTLSConnect(const gloox::CertInfo&) override { return true; }
    void send_xml(const std::string& xml) { send(xml); }  // raw; protected in gloox

    bool lost = false;

  private:
    XmppResponder& r_;
};

XmppResponder::XmppResponder(XmppResponderConfig config) : config_(std::move(config)) {
    thread_ = std::thread([this] { run(); });
}

XmppResponder::~XmppResponder() {
    stop_ = true;
    thread_.join();
}

void XmppResponder::on_command(const std::string& node,
                               std::function<XmppReply(const std::string&)> fn) {
    std::lock_guard lk(mu_);
    computed_[node] = std::move(fn);
}

void XmppResponder::on_command(const std::string& node, XmppReply reply) {
    std::lock_guard lk(mu_);
    replies_[node] = std::move(reply);
}

bool XmppResponder::wait_connected(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!connected_) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

void XmppResponder::send_raw(std::string xml) {
    std::lock_guard lk(mu_);
    outbox_.push_back(std::move(xml));
}

void XmppResponder::send_consent(const std::string& to,
                                 const std::vector<std::string>& usage_points,
                                 const std::string& state) {
    static std::atomic<int> counter{0};
    const std::string id = fmt::format("consent-{}", ++counter);
    std::string points, list;
    for (const auto& p : usage_points) {
        points += "<usage-point>" + escape(p) + "</usage-point>";
        list += (list.empty() ? "" : ", ") + p;
    }
    send_raw(fmt::format(
        "<message type='chat' to='{0}' id='{1}' xml:lang='en'>"
        "<origin-id xmlns='urn:xmpp:sid:0' id='{1}'/>"
        "<body>Access granted for usage points {2}</body>"
        "<x xmlns='https://consometers.org/dataconnect#authorize'>{3}<state>{4}</state></x>"
        "</message>",
        escape(to), id, escape(list), points, escape(state)));
}

std::vector<std::string> XmppResponder::requests() const {
    std::lock_guard lk(mu_);
    return requests_;
}

void XmppResponder::on_iq(const std::string& from, const std::string& id, const std::string& node,
                          const std::string& xml, std::string& answer) {
    XmppReply reply;
    {
        std::lock_guard lk(mu_);
        requests_.push_back(xml);
        const auto it = replies_.find(node);
        if (auto fn = computed_.find(node); fn != computed_.end()) {
            reply = fn->second(xml);
        } else if (it != replies_.end()) {
            reply = it->second;
        } else {
            reply = XmppReply::error("no such command: " + node);
            reply.condition = "item-not-found";
        }
    }
    switch (reply.kind) {
        case XmppReply::Kind::silent:
            return;
        case XmppReply::Kind::result:
            answer = fmt::format(
                "<iq type='result' to='{}' id='{}' xml:lang='fr'>"
                "<command xmlns='{}' node='{}' sessionid='test-{}' status='completed'>{}</command>"
                "</iq>",
                escape(from), escape(id), kCommandsNs, escape(node), escape(id), reply.payload_xml);
            return;
        case XmppReply::Kind::error: {
            std::string upstream;
            if (reply.upstream_issuer)
                upstream = fmt::format(
                    "<upstream-error xmlns='urn:quoalise:0' issuer='{}'{}/>",
                    escape(*reply.upstream_issuer),
                    reply.upstream_code ? " code='" + escape(*reply.upstream_code) + "'" : "");
            answer = fmt::format(
                "<iq type='error' to='{}' id='{}' xml:lang='en'><error type='{}'>"
                "<{} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>{}</text>{}</error></iq>",
                escape(from), escape(id), escape(reply.error_type), reply.condition,
                escape(reply.text), upstream);
            return;
        }
    }
}

void XmppResponder::run() {
    // gloox's send() does not use MSG_NOSIGNAL: a write to a killed server must not
    // kill the test process.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

    while (!stop_) {
        {
            Client c(*this, gloox::JID(config_.jid), config_.password);
            c.setTls(gloox::TLSRequired);
            c.setCompression(false);
            c.disableRoster();
            // gloox's own TLS leaks its trust store on each client (LeakSanitizer).
            gloox::TLSBase* tls =
                mb::make_xmpp_tls(&c, gloox::JID(config_.jid).server(), config_.ca_file).release();
            c.setEncryptionImpl(tls);
            tls->init();
            c.setConnectionImpl(
                new gloox::ConnectionTCPClient(&c, c.logInstance(), config_.host, config_.port));
            if (c.connect(false)) {
                while (!stop_ && !c.lost) {
                    if (c.recv(20000) != gloox::ConnNoError) break;  // microseconds
                    if (!connected_) continue;
                    std::deque<std::string> out;
                    {
                        std::lock_guard lk(mu_);
                        out.swap(outbox_);
                    }
                    for (const auto& xml : out) c.send_xml(xml);
                }
                if (!c.lost) c.disconnect();
            }
            connected_ = false;
        }
        for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(10ms);
    }
}

}  // namespace mb::test
