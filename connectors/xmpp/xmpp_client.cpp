#include "connectors/xmpp/xmpp_client.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace mb {

XmppClient::XmppClient(XmppClientEvents& events, const gloox::JID& jid, const std::string& password,
                       const XmppStreamLimits& limits, std::string name)
    : gloox::Client(jid, password), events_(events), guard_(limits), name_(std::move(name)) {
    registerConnectionListener(this);
    // Warnings and errors only: debug output holds the stream, SASL included.
    logInstance().registerLogHandler(gloox::LogLevelWarning, gloox::LogAreaAll, this);
}

void XmppClient::handleReceivedData(const gloox::ConnectionBase* c, const std::string& data) {
    const bool tls_records = m_encryption && m_encryptionActive;
    if (!tls_records && !guard_.feed(data)) return;
    gloox::Client::handleReceivedData(c, data);
}

void XmppClient::handleDecryptedData(const gloox::TLSBase* b, const std::string& data) {
    if (!guard_.feed(data)) return;
    gloox::Client::handleDecryptedData(b, data);
}

void XmppClient::handleTag(gloox::Tag* tag) {
    if (tag && events_.on_stanza(tag)) return;
    gloox::Client::handleTag(tag);
}

void XmppClient::onConnect() {
    events_.on_connect();
}

void XmppClient::onDisconnect(gloox::ConnectionError e) {
    events_.on_disconnect(e);
}

bool XmppClient::onTLSConnect(const gloox::CertInfo& info) {
    return events_.on_tls(info.status, info.issuer, info.server, info.protocol);
}

void XmppClient::handleLog(gloox::LogLevel, gloox::LogArea, const std::string& message) {
    spdlog::debug("{}: gloox: {}", name_, message);
}

}  // namespace mb
