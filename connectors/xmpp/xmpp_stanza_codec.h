// The stanza payloads the XMPP transport builds and reads for its connectors,
// without their meaning: an XEP-0050 ad-hoc command execution with an XEP-0004
// form (adhoc_execute) and the RFC 6120 stanza error of an answer
// (parse_stanza_error), whose application-specific conditions are handed over
// as they came for the connector to interpret.
//
// Pure functions on gloox tags, any thread. adhoc_execute() throws
// std::invalid_argument for text gloox cannot carry (not valid UTF-8): the
// caller's values, not the peer's; parse_stanza_error() never throws.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace gloox {
class Tag;
}  // namespace gloox

namespace mb {

// A field of an XEP-0004 form. `type` "" picks: text-multi for several values
// and for the description/service/processings fields, else text-single. In a
// text-multi field every line of a value becomes its own <value>.
struct AdhocField {
    std::string var;
    std::vector<std::string> values;
    std::string type;
};

// <command xmlns="http://jabber.org/protocol/commands" node=… action="execute">
//   <x xmlns="jabber:x:data" type="submit"><field …>…</x></command>
std::unique_ptr<gloox::Tag> adhoc_execute(const std::string& node,
                                          const std::vector<AdhocField>& fields);

// An element of <error> outside the stanzas namespace: an application-specific
// condition (RFC 6120 8.3.4), e.g. a service's own error code.
struct XmppErrorExtension {
    std::string name;   // local name
    std::string xmlns;  // its namespace, as resolved in the stanza
    std::string xml;    // the element as received
};

struct XmppStanzaError {
    std::string type;       // cancel, modify, wait, auth, continue
    std::string condition;  // e.g. undefined-condition, item-not-found, service-unavailable
    std::string text;       // <text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">
    std::vector<XmppErrorExtension> extensions;  // in document order
};

// The <error> child of a stanza (all fields empty when there is none).
XmppStanzaError parse_stanza_error(const gloox::Tag& stanza);

}  // namespace mb
