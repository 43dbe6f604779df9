// XmppClient: the gloox client of one connection attempt, with an
// XmppStreamGuard in front of gloox's parser, reporting to XmppClientEvents
// (the XmppSession). Created, driven and destroyed on the session thread; the
// events are called on it, from inside gloox (connect(), recv()).
//
// Received bytes reach gloox's parser through handleReceivedData() (plaintext,
// or TLS records for the TLS layer) and handleDecryptedData() (the TLS layer's
// output; compression is off): both pass the XML through the guard first, and
// once it refuses, nothing more reaches gloox; refused() says why and the
// session loop then ends the connection. Every incoming top-level element
// passes through handleTag() before gloox turns it into a Stanza (which drops
// the children gloox has no StanzaExtension for, e.g. a service's payload):
// on_stanza() takes them there as raw Tags.
#pragma once

#include <gloox/client.h>
#include <gloox/connectionlistener.h>
#include <gloox/loghandler.h>

#include <string>

#include "connectors/xmpp/xmpp_stream_guard.h"

namespace mb {

class XmppClientEvents {
  public:
    virtual ~XmppClientEvents() = default;
    virtual bool on_stanza(const gloox::Tag* tag) = 0;  // true when consumed
    virtual void on_connect() = 0;
    virtual void on_disconnect(int error) = 0;  // a gloox::ConnectionError
    // The handshake's result; false refuses the certificate (ends the attempt).
    virtual bool on_tls(int status, const std::string& issuer, const std::string& subject,
                        const std::string& protocol) = 0;
};

class XmppClient final : public gloox::Client,
                         public gloox::ConnectionListener,
                         public gloox::LogHandler {
  public:
    // `name` prefixes gloox's own log lines.
    XmppClient(XmppClientEvents& events, const gloox::JID& jid, const std::string& password,
               const XmppStreamLimits& limits, std::string name);

    // Why the guard refused the server's XML ("" while it has not).
    const std::string& refused() const { return guard_.error(); }

    void handleReceivedData(const gloox::ConnectionBase* c, const std::string& data) override;
    void handleDecryptedData(const gloox::TLSBase* b, const std::string& data) override;
    void handleTag(gloox::Tag* tag) override;
    void onConnect() override;
    void onDisconnect(gloox::ConnectionError e) override;
    bool onTLSConnect(const gloox::CertInfo& info) override;
    void handleLog(gloox::LogLevel, gloox::LogArea, const std::string& message) override;

  private:
    XmppClientEvents& events_;
    XmppStreamGuard guard_;
    std::string name_;
};

}  // namespace mb
