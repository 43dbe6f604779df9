// XmppSession against a real prosody (tests/support/prosody_server.h), with
// a second gloox client playing the DataConnect proxy (xmpp_responder.h).
#include <fmt/format.h>
#include <gloox/tag.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/enedis/enedis_connector.h"
#include "connectors/xmpp/xmpp_session.h"
#include "tests/support/eventually.h"
#include "tests/support/mosquitto_broker.h"
#include "tests/support/prosody_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/xmpp_responder.h"

namespace mb {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::ProsodyOptions;
using test::ProsodyServer;
using test::XmppReply;
using test::XmppResponder;
using Status = XmppResponse::Status;

// The answer of the seed document's get_load_curve example.
const std::string kLoadCurve =
    R"(<x xmlns="jabber:x:data" type="result"><title>Get production load curve data</title>)"
    R"(<field var="result" type="fixed" label="production load curve for 10284856584123">)"
    R"(<value>Success</value></field></x>)"
    R"(<quoalise xmlns="urn:quoalise:0"><data><meta><device type="electricity-meter">)"
    R"(<identifier authority="enedis" type="prm" value="10284856584123"/></device>)"
    R"(<measurement><physical quantity="power" type="electrical" unit="W"/>)"
    R"(<business graph="load-profile" direction="production"/><aggregate type="average"/>)"
    R"(<sampling interval="1800"/></measurement></meta>)"
    R"(<sensml xmlns="urn:ietf:params:xml:ns:senml">)"
    R"(<senml bn="urn:dev:prm:10284856584123_production_load" bt="1600041600" t="0" v="245" bu="W"/>)"
    R"(<senml t="1800" v="420"/></sensml></data></quoalise>)";

// Collects callbacks (they run on the session thread).
class Responses {
  public:
    XmppCallback callback() {
        return [this](XmppResponse r) {
            std::lock_guard lk(mu_);
            got_.push_back(std::move(r));
            cv_.notify_all();
        };
    }
    // The n-th response (0-based), waiting for it.
    std::optional<XmppResponse> wait(std::size_t n, std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lk(mu_);
        if (!cv_.wait_for(lk, timeout, [&] { return got_.size() > n; })) return std::nullopt;
        return got_[n];
    }
    std::size_t count() {
        std::lock_guard lk(mu_);
        return got_.size();
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<XmppResponse> got_;
};

// MB_LOG_LEVEL=debug shows the session's and gloox's own messages.
const bool kLogLevelSet = [] {
    if (const char* l = std::getenv("MB_LOG_LEVEL")) spdlog::set_level(spdlog::level::from_str(l));
    return true;
}();

// A CA the server's certificate does not come from (made once: RSA keys are slow).
const test::BrokerTls& other_pki() {
    static const test::TempDir dir;
    static const test::BrokerTls pki =
        test::make_test_pki(dir.path(), "other", ProsodyOptions{}.domain);
    return pki;
}

// Handlers that collect the consent notifications the session receives.
XmppHandlers collecting_consents(std::mutex& mu, std::vector<XmppMessage>& consents) {
    XmppHandlers handlers;
    handlers.message.name = "x";
    handlers.message.xmlns = std::string(kAuthorizeNamespace);
    handlers.message.what = "consent";
    handlers.message.handle = [&mu, &consents](XmppMessage m) {
        std::lock_guard lk(mu);
        consents.push_back(std::move(m));
    };
    return handlers;
}

std::vector<AdhocField> load_curve_fields() {
    return {{"usage_point_id", {"10284856584123"}, ""},
            {"direction", {"production"}, "list-single"},
            {"start_date", {"2020-09-14"}, ""},
            {"end_date", {"2020-09-15"}, ""}};
}

class XmppSessionTest : public ::testing::Test {
  protected:
    void SetUp() override {
        server_ = std::make_unique<ProsodyServer>(dir_ / "prosody");
        server_->add_user("bridge", "bridge-secret");
        server_->add_user("proxy", "proxy-secret");
    }

    XmppSessionConfig config() const {
        XmppSessionConfig c;
        c.name = "enedis-test";
        c.jid = server_->jid("bridge", "meterbridge");
        c.password = "bridge-secret";
        c.server = server_->host();
        c.port = server_->port();
        c.ca_file = server_->ca_file().string();
        c.connect_timeout = 5s;
        c.backoff_initial = 200ms;
        c.backoff_max = 500ms;
        return c;
    }

    std::unique_ptr<XmppResponder> responder() const {
        test::XmppResponderConfig c;
        c.jid = server_->jid("proxy", "proxy");
        c.password = "proxy-secret";
        c.host = server_->host();
        c.port = server_->port();
        c.ca_file = server_->ca_file().string();
        auto r = std::make_unique<XmppResponder>(c);
        r->on_command("get_load_curve", XmppReply::result(kLoadCurve));
        r->on_command("get_daily",
                      XmppReply::error("The requested period cannot be anterior to the meter's "
                                       "last activation date",
                                       "enedis-data-connect", "ADAM-ERR0123"));
        r->on_command("get_authorize_uri",
                      XmppReply::error("Upstream unavailable", "enedis-data-connect"));
        r->on_command("silent", XmppReply::silent());
        return r;
    }

    static bool wait_connected(const XmppSession& s, std::chrono::milliseconds t = 10s) {
        return eventually([&] { return s.health().state == XmppState::connected; }, t);
    }

    std::string diagnostics(const XmppSession& s) const {
        const auto h = s.health();
        return fmt::format("state {}, last error '{}'\nprosody log:\n{}", to_string(h.state),
                           h.last_error, server_->log());
    }

    test::TempDir dir_;
    std::unique_ptr<ProsodyServer> server_;
};

TEST(AdhocExecute, BuildsTheCommandForm) {
    auto tag = adhoc_execute("get_authorize_uri",
                             {{"name", {"Elec Expert Demo"}, ""},
                              {"service", {"Nos experts analysent.", "Rendez-vous <tel>"}, ""},
                              {"description", {"<p>one</p>\n<p>two</p>"}, ""},
                              {"direction", {"consumption"}, "list-single"}});
    const std::string xml = tag->xml();
    EXPECT_NE(xml.find("<command xmlns='http://jabber.org/protocol/commands' "
                       "node='get_authorize_uri' action='execute'>"),
              std::string::npos)
        << xml;
    EXPECT_NE(xml.find("<x xmlns='jabber:x:data' type='submit'>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<field var='name' type='text-single'><value>Elec Expert Demo</value>"),
              std::string::npos)
        << xml;
    EXPECT_NE(xml.find("<field var='service' type='text-multi'><value>Nos experts "
                       "analysent.</value><value>Rendez-vous &lt;tel&gt;</value></field>"),
              std::string::npos)
        << xml;
    // text-multi: one <value> per line, even for a single configured value.
    EXPECT_NE(xml.find("<field var='description' type='text-multi'><value>&lt;p&gt;one&lt;/"
                       "p&gt;</value><value>&lt;p&gt;two&lt;/p&gt;</value></field>"),
              std::string::npos)
        << xml;
    EXPECT_NE(xml.find("<field var='direction' type='list-single'><value>consumption</value>"),
              std::string::npos)
        << xml;
    EXPECT_THROW(adhoc_execute("get_daily", {{"start_date", {"\xff\xfe"}, ""}}),
                 std::invalid_argument);
}

TEST(XmppSessionConfigTest, PlaintextOnlyTowardsLoopback) {
    XmppSessionConfig c;
    c.jid = "bridge@example.org/mb";
    c.allow_plaintext = true;
    c.server = "xmpp.example.org";
    EXPECT_THROW(XmppSession{c}, std::invalid_argument);
    c.server = "";
    EXPECT_THROW(XmppSession{c}, std::invalid_argument);
    c.server = "127.0.0.1";
    EXPECT_NO_THROW(XmppSession{c});
    c.jid = "not a jid@";
    EXPECT_THROW(XmppSession{c}, std::invalid_argument);
}

TEST(XmppSessionConfigTest, RequestWhileStoppedFailsAtOnce) {
    XmppSessionConfig c;
    c.jid = "bridge@example.org/mb";
    // Before the session: callbacks may run until it is destroyed.
    Responses got;
    XmppSession s(c);
    s.request("proxy@example.org/proxy", adhoc_execute("get_daily", {}), 1s, got.callback());
    const auto r = got.wait(0, 0ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, Status::disconnected);
    EXPECT_EQ(s.health().state, XmppState::stopped);
}

TEST_F(XmppSessionTest, ConnectsWithVerifiedTlsAndStopsIdempotently) {
    XmppSession s(config());
    s.start();
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    const auto h = s.health();
    EXPECT_EQ(h.jid, server_->jid("bridge", "meterbridge"));
    EXPECT_EQ(h.connects, 1u);
    EXPECT_EQ(h.reconnects, 0u);
    EXPECT_EQ(h.last_error, "");
    s.stop();
    s.stop();
    EXPECT_EQ(s.health().state, XmppState::stopped);
    EXPECT_EQ(s.health().reconnects, 0u);
    // Restartable.
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    EXPECT_EQ(s.health().connects, 2u);
}

TEST_F(XmppSessionTest, Tls13ByDefaultAndTls12WithChannelBinding) {
    {
        XmppSession s(config());
        s.start();
        ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
        EXPECT_NE(server_->log().find("Stream encrypted (TLSv1.3"), std::string::npos)
            << server_->log();
    }
    // TLS 1.2: prosody offers SCRAM-SHA-1-PLUS (tls-unique), which gloox then takes.
    ProsodyOptions o;
    o.tls_protocol = "tlsv1_2";
    o.log_level = "debug";
    server_ = std::make_unique<ProsodyServer>(dir_ / "prosody-tls12", o);
    server_->add_user("bridge", "bridge-secret");
    XmppSession s(config());
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    const std::string log = server_->log();
    EXPECT_NE(log.find("Stream encrypted (TLSv1.2"), std::string::npos) << log;
    EXPECT_NE(log.find("mechanism='SCRAM-SHA-1-PLUS'"), std::string::npos) << log;
}

TEST_F(XmppSessionTest, StateHandlerSeesTheTransitions) {
    std::mutex mu;
    std::vector<XmppState> states;
    XmppHandlers handlers;
    handlers.state = [&](XmppState st, const std::string&) {
        std::lock_guard lk(mu);
        states.push_back(st);
    };
    {
        XmppSession s(config(), handlers);
        s.start();
        ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    }
    std::lock_guard lk(mu);
    EXPECT_EQ(states, (std::vector<XmppState>{XmppState::connected, XmppState::stopped}));
}

TEST_F(XmppSessionTest, RefusesACertificateFromAnUnknownCa) {
    const auto& other = other_pki();
    auto c = config();
    c.ca_file = other.ca_file.string();
    XmppSession s(c);
    s.start();
    ASSERT_TRUE(eventually([&] { return !s.health().last_error.empty(); }, 10s)) << diagnostics(s);
    const auto h = s.health();
    EXPECT_NE(h.last_error.find("TLS refused: the server certificate is not trusted"),
              std::string::npos)
        << h.last_error;
    EXPECT_NE(h.last_error.find(other.ca_file.string()), std::string::npos) << h.last_error;
    EXPECT_EQ(h.connects, 0u);
    EXPECT_NE(h.state, XmppState::connected);
}

TEST_F(XmppSessionTest, TlsInsecureAcceptsAnUnknownCa) {
    const auto& other = other_pki();
    auto c = config();
    c.ca_file = other.ca_file.string();
    c.tls_insecure = true;
    XmppSession s(c);
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
}

TEST_F(XmppSessionTest, RefusesACertificateForAnotherHostName) {
    ProsodyOptions o;
    o.cert_host = "wrong.test";
    server_ = std::make_unique<ProsodyServer>(dir_ / "prosody-wrong-name", o);
    server_->add_user("bridge", "bridge-secret");
    XmppSession s(config());
    s.start();
    ASSERT_TRUE(eventually([&] { return !s.health().last_error.empty(); }, 10s)) << diagnostics(s);
    const auto h = s.health();
    EXPECT_NE(h.last_error.find("not valid for host name 'meterbridge.test'"), std::string::npos)
        << h.last_error;
    EXPECT_EQ(h.last_error.find("not trusted"), std::string::npos) << h.last_error;
    EXPECT_EQ(h.connects, 0u);
}

TEST_F(XmppSessionTest, WrongPasswordIsAnAuthenticationFailure) {
    auto c = config();
    c.password = "not-the-password";
    XmppSession s(c);
    s.start();
    ASSERT_TRUE(eventually([&] { return !s.health().last_error.empty(); }, 10s)) << diagnostics(s);
    const auto h = s.health();
    EXPECT_NE(h.last_error.find("authentication failed: not-authorized"), std::string::npos)
        << h.last_error;
    EXPECT_EQ(h.connects, 0u);
}

TEST_F(XmppSessionTest, RequestDeliversTheResultAsXml) {
    auto proxy = responder();
    // Before the session: callbacks may run until it is destroyed.
    Responses got;
    XmppSession s(config());
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    ASSERT_TRUE(proxy->wait_connected(10s));
    s.request(proxy->jid(), adhoc_execute("get_load_curve", load_curve_fields()), 5s,
              got.callback());
    const auto r = got.wait(0);
    ASSERT_TRUE(r) << diagnostics(s);
    EXPECT_EQ(r->status, Status::result) << r->detail;
    EXPECT_FALSE(r->id.empty());
    // The whole iq, with the payload gloox has no extension for.
    EXPECT_TRUE(r->xml.starts_with("<iq ")) << r->xml;
    EXPECT_NE(r->xml.find("type='result'"), std::string::npos) << r->xml;
    EXPECT_NE(r->xml.find("<quoalise xmlns='urn:quoalise:0'><data><meta>"), std::string::npos)
        << r->xml;
    EXPECT_NE(r->xml.find("bn='urn:dev:prm:10284856584123_production_load'"), std::string::npos)
        << r->xml;
    EXPECT_NE(r->xml.find("status='completed'"), std::string::npos) << r->xml;
    // What the proxy received.
    // (The server re-serialises the stanza: attribute order is its own.)
    const auto reqs = proxy->requests();
    ASSERT_EQ(reqs.size(), 1u);
    for (const std::string& part : std::vector<std::string>{
             "node='get_load_curve'", "action='execute'", "xmlns='jabber:x:data'", "type='submit'",
             "var='direction'", "type='list-single'", "<value>production</value>",
             "<value>10284856584123</value>", "<value>2020-09-14</value>",
             "from='" + server_->jid("bridge", "meterbridge") + "'"})
        EXPECT_NE(reqs[0].find(part), std::string::npos) << part << " in " << reqs[0];
}

TEST_F(XmppSessionTest, ErrorsAreParsedWithAndWithoutUpstreamCode) {
    auto proxy = responder();
    // Before the session: callbacks may run until it is destroyed.
    Responses got_coded, got_uncoded, got_offline;
    XmppSession s(config());
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    ASSERT_TRUE(proxy->wait_connected(10s));
    s.request(proxy->jid(), adhoc_execute("get_daily", load_curve_fields()), 5s,
              got_coded.callback());
    s.request(proxy->jid(), adhoc_execute("get_authorize_uri", {}), 5s, got_uncoded.callback());
    // An offline resource: prosody answers itself (service-unavailable), no upstream.
    s.request(server_->jid("proxy", "nobody"), adhoc_execute("get_daily", {}), 5s,
              got_offline.callback());
    const auto coded = got_coded.wait(0);
    const auto uncoded = got_uncoded.wait(0);
    const auto offline = got_offline.wait(0);
    ASSERT_TRUE(coded && uncoded && offline) << diagnostics(s);

    ASSERT_EQ(coded->status, Status::error) << coded->detail;
    EXPECT_EQ(coded->error.type, "cancel");
    EXPECT_EQ(coded->error.condition, "undefined-condition");
    EXPECT_EQ(coded->error.text,
              "The requested period cannot be anterior to the meter's last activation date");
    const auto coded_upstream = upstream_error_of(coded->error);
    ASSERT_TRUE(coded_upstream);
    EXPECT_EQ(coded_upstream->issuer, "enedis-data-connect");
    EXPECT_EQ(coded_upstream->code, "ADAM-ERR0123");
    EXPECT_NE(coded->xml.find("type='error'"), std::string::npos) << coded->xml;
    EXPECT_NE(coded->detail.find("ADAM-ERR0123"), std::string::npos) << coded->detail;

    ASSERT_EQ(uncoded->status, Status::error) << uncoded->detail;
    EXPECT_EQ(uncoded->error.text, "Upstream unavailable");
    const auto uncoded_upstream = upstream_error_of(uncoded->error);
    ASSERT_TRUE(uncoded_upstream);
    EXPECT_EQ(uncoded_upstream->issuer, "enedis-data-connect");
    EXPECT_FALSE(uncoded_upstream->code);

    ASSERT_EQ(offline->status, Status::error) << offline->detail;
    EXPECT_EQ(offline->error.condition, "service-unavailable") << offline->xml;
    EXPECT_FALSE(upstream_error_of(offline->error));
}

TEST_F(XmppSessionTest, UnansweredRequestTimesOut) {
    auto proxy = responder();
    // Before the session: callbacks may run until it is destroyed.
    Responses got;
    XmppSession s(config());
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    ASSERT_TRUE(proxy->wait_connected(10s));
    const auto t0 = std::chrono::steady_clock::now();
    s.request(proxy->jid(), adhoc_execute("silent", {}), 300ms, got.callback());
    const auto r = got.wait(0, 5s);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, Status::timeout) << r->detail;
    EXPECT_GE(elapsed, 300ms);
    EXPECT_LT(elapsed, 1500ms);
    EXPECT_EQ(proxy->requests().size(), 1u);
    // Exactly once: nothing more arrives, the session stays up.
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(got.count(), 1u);
    EXPECT_EQ(s.health().state, XmppState::connected);
}

TEST_F(XmppSessionTest, PendingRequestsFailWhenTheServerDiesAndTheSessionComesBack) {
    auto proxy = responder();
    // Before the session: callbacks may run until it is destroyed.
    Responses got;
    XmppSession s(config());
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    ASSERT_TRUE(proxy->wait_connected(10s));
    s.request(proxy->jid(), adhoc_execute("silent", {}), 30s, got.callback());
    ASSERT_TRUE(eventually([&] { return proxy->requests().size() == 1; }, 5s));

    const auto t0 = std::chrono::steady_clock::now();
    server_->kill();
    const auto r = got.wait(0, 5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, Status::disconnected) << r->detail;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_NE(s.health().state, XmppState::connected);

    server_->start();  // same port, same accounts
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    const auto h = s.health();
    EXPECT_EQ(h.connects, 2u);
    EXPECT_EQ(h.reconnects, 1u);
    ASSERT_TRUE(proxy->wait_connected(10s));
    s.request(proxy->jid(), adhoc_execute("get_load_curve", load_curve_fields()), 5s,
              got.callback());
    const auto again = got.wait(1);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, Status::result) << again->detail;
}

TEST_F(XmppSessionTest, ServerShutdownIsReportedAndTheSessionComesBack) {
    std::mutex mu;
    std::vector<std::string> details;  // of the state changes
    XmppHandlers handlers;
    handlers.state = [&](XmppState, const std::string& detail) {
        std::lock_guard lk(mu);
        details.push_back(detail);
    };
    XmppSession s(config(), handlers);
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    server_->stop();  // SIGTERM: prosody closes the stream with <system-shutdown/>
    ASSERT_TRUE(eventually([&] { return s.health().state != XmppState::connected; }, 5s));
    {
        std::lock_guard lk(mu);
        ASSERT_GE(details.size(), 2u);
        EXPECT_EQ(details[1], "stream error: system-shutdown (Received SIGTERM)");
    }
    server_->start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    EXPECT_EQ(s.health().reconnects, 1u);
}

TEST_F(XmppSessionTest, RequestsWaitForTheSessionUntilTheirDeadline) {
    server_->stop();
    auto proxy = responder();
    // Before the session: callbacks may run until it is destroyed.
    Responses got;
    XmppSession s(config());
    s.start();
    // No session: this one expires in the queue.
    s.request(server_->jid("proxy", "proxy"), adhoc_execute("get_load_curve", {}), 200ms,
              got.callback());
    const auto expired = got.wait(0, 5s);
    ASSERT_TRUE(expired);
    EXPECT_EQ(expired->status, Status::timeout);
    EXPECT_NE(expired->detail.find("no XMPP session"), std::string::npos) << expired->detail;
    EXPECT_TRUE(expired->id.empty());
    // This one is sent once the server is back.
    s.request(proxy->jid(), adhoc_execute("get_load_curve", load_curve_fields()), 10s,
              got.callback());
    server_->start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    const auto sent = got.wait(1);
    ASSERT_TRUE(sent);
    // The responder may still be connecting: then the server answers service-unavailable.
    EXPECT_TRUE(sent->status == Status::result || sent->status == Status::error) << sent->detail;
}

TEST_F(XmppSessionTest, UnansweredPingDropsTheConnection) {
    auto c = config();
    c.ping_interval = 200ms;
    c.ping_timeout = 400ms;
    XmppSession s(c);
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    // Pings are answered while the server runs.
    std::this_thread::sleep_for(700ms);
    EXPECT_EQ(s.health().state, XmppState::connected) << diagnostics(s);
    server_->pause();
    ASSERT_TRUE(eventually([&] { return s.health().state != XmppState::connected; }, 5s));
    server_->resume();
    EXPECT_NE(s.health().last_error.find("did not answer an XMPP ping within 400 ms"),
              std::string::npos)
        << s.health().last_error;
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    EXPECT_EQ(s.health().reconnects, 1u);
}

TEST_F(XmppSessionTest, ConsentMessagesReachTheHandler) {
    std::mutex mu;
    std::vector<XmppMessage> consents;
    const XmppHandlers handlers = collecting_consents(mu, consents);
    auto proxy = responder();
    XmppSession s(config(), handlers);
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    ASSERT_TRUE(proxy->wait_connected(10s));
    const std::string bare = server_->jid("bridge");
    // A message without the extension is not a consent.
    proxy->send_raw("<message type='chat' to='" + bare + "'><body>hello</body></message>");
    proxy->send_consent(bare, {"22516914714270"}, "ton_etat");
    proxy->send_consent(bare, {"64975835695673", "63695879465986"}, "");
    ASSERT_TRUE(eventually(
        [&] {
            std::lock_guard lk(mu);
            return consents.size() >= 2;
        },
        5s))
        << diagnostics(s);
    std::this_thread::sleep_for(100ms);
    std::lock_guard lk(mu);
    ASSERT_EQ(consents.size(), 2u);
    EXPECT_EQ(consents[0].from, proxy->jid());
    EXPECT_NE(consents[0].xml.find("<body>Access granted for usage points 22516914714270</body>"),
              std::string::npos)
        << consents[0].xml;
    EXPECT_TRUE(consents[0].extension.starts_with(
        "<x xmlns='https://consometers.org/dataconnect#authorize'>"))
        << consents[0].extension;
    EXPECT_NE(consents[0].extension.find("<usage-point>22516914714270</usage-point>"
                                         "<state>ton_etat</state>"),
              std::string::npos)
        << consents[0].extension;
    EXPECT_NE(consents[1].extension.find("<usage-point>64975835695673</usage-point>"
                                         "<usage-point>63695879465986</usage-point><state"),
              std::string::npos)
        << consents[1].extension;
}

// Over TLS, through a real server: the XML the session checks is what comes out
// of its TLS layer. Another client's message, nested past the limit, ends the
// session before gloox parses it; the next one, normal, arrives after the reconnect.
TEST_F(XmppSessionTest, AStanzaNestedPastTheLimitEndsTheSessionWhichComesBack) {
    std::mutex mu;
    std::vector<XmppMessage> consents;
    const XmppHandlers handlers = collecting_consents(mu, consents);
    auto proxy = responder();
    XmppSession s(config(), handlers);
    s.start();
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    ASSERT_TRUE(proxy->wait_connected(10s));
    const std::string full = server_->jid("bridge", "meterbridge");
    std::string deep;
    for (int i = 0; i < 100; ++i) deep += "<a>";
    for (int i = 0; i < 100; ++i) deep += "</a>";
    proxy->send_raw("<message type='chat' to='" + full + "'><body>deep</body>" + deep +
                    "</message>");
    ASSERT_TRUE(eventually([&] { return s.health().reconnects == 1; }, 5s)) << diagnostics(s);
    EXPECT_EQ(s.health().last_error, "the server sent XML nested deeper than 64 levels");
    ASSERT_TRUE(wait_connected(s)) << diagnostics(s);
    proxy->send_consent(full, {"22516914714270"}, "granted");
    ASSERT_TRUE(eventually(
        [&] {
            std::lock_guard lk(mu);
            return !consents.empty();
        },
        5s))
        << diagnostics(s);
    EXPECT_EQ(s.health().connects, 2u);
}

}  // namespace
}  // namespace mb
