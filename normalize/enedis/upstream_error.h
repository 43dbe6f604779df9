// The DataConnect proxy's error answers: an XMPP stanza error whose <error>
// carries <upstream-error xmlns="urn:quoalise:0" issuer="…" code="…"/>, the
// words of the service behind the proxy (e.g. ADAM-DC-0008, no consent). Read
// by the Enedis connector from the error stanzas the XMPP transport hands over
// (parse_upstream_error) and by the Quoalise decoder from an answer
// (upstream_error_detail).
//
// Pure functions, any thread; no I/O. Input that is not XML, or has no such
// element, yields nullopt, never an exception.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pugi {
class xml_node;
}  // namespace pugi

namespace mb {

// The namespace of the Quoalise payloads and of <upstream-error>.
inline constexpr std::string_view kQuoaliseNamespace = "urn:quoalise:0";

// <upstream-error issuer="…" code="…"/>: each attribute, when present.
struct UpstreamError {
    std::optional<std::string> issuer;
    std::optional<std::string> code;  // absent in some proxy errors
};

// The attributes of an <upstream-error> element (any namespace: the caller
// found it).
UpstreamError read_upstream_error(const pugi::xml_node& element);

// Of an element of a stanza's <error>, as the XMPP transport hands it over
// (its local name, its namespace as resolved in the stanza, its XML text):
// the upstream error when it is <upstream-error> in the Quoalise namespace.
std::optional<UpstreamError> parse_upstream_error(std::string_view name, std::string_view xmlns,
                                                  std::string_view xml);

// One line of an error answer for a reject reason: "undefined-condition: The
// requested period … (upstream enedis-data-connect code ADAM-ERR0123)". From
// the <error> element (its first condition, its first non-empty <text>, both
// by local name) and the <upstream-error> element found in the answer (may be
// null); values are made printable (detail_text.h).
std::string upstream_error_detail(const pugi::xml_node& error, const pugi::xml_node& upstream);

}  // namespace mb
