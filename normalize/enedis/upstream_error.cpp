#include "normalize/enedis/upstream_error.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include "normalize/detail_text.h"

namespace mb {

namespace {

// Elements are matched by local name: the proxy writes default namespaces, a
// client library may write prefixes.
std::string_view local_part(std::string_view qname) {
    const std::size_t colon = qname.rfind(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

std::optional<std::string> attribute(const pugi::xml_node& n, const char* name) {
    const pugi::xml_attribute a = n.attribute(name);
    if (!a) return std::nullopt;
    return std::string(a.value());
}

// Character data without the XML blanks around it.
std::string trimmed_text(const pugi::xml_node& n) {
    constexpr std::string_view kBlanks = " \t\n\r";
    const std::string_view s = n.child_value();
    const std::size_t first = s.find_first_not_of(kBlanks);
    if (first == std::string_view::npos) return {};
    return std::string(s.substr(first, s.find_last_not_of(kBlanks) - first + 1));
}

}  // namespace

UpstreamError read_upstream_error(const pugi::xml_node& element) {
    return UpstreamError{attribute(element, "issuer"), attribute(element, "code")};
}

std::optional<UpstreamError> parse_upstream_error(std::string_view name, std::string_view xmlns,
                                                  std::string_view xml) {
    if (name != "upstream-error" || xmlns != kQuoaliseNamespace) return std::nullopt;
    pugi::xml_document doc;
    if (!doc.load_buffer(xml.data(), xml.size())) return std::nullopt;
    const pugi::xml_node element = doc.document_element();
    if (local_part(element.name()) != name) return std::nullopt;
    return read_upstream_error(element);
}

std::string upstream_error_detail(const pugi::xml_node& error, const pugi::xml_node& upstream) {
    std::string condition;
    std::string text;
    for (pugi::xml_node c = error.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        const std::string_view local = local_part(c.name());
        if (local == "text") {
            if (text.empty()) text = trimmed_text(c);
        } else if (local != "upstream-error" && condition.empty()) {
            condition = std::string(local);
        }
    }
    std::string d = condition.empty() ? std::string("error") : printable(condition);
    if (!text.empty()) d += fmt::format(": {}", printable(text, 256));
    const UpstreamError u = read_upstream_error(upstream);
    if (u.issuer || u.code) {
        d += " (upstream";
        if (u.issuer) d += fmt::format(" {}", printable(*u.issuer));
        if (u.code) d += fmt::format(" code {}", printable(*u.code));
        d += ")";
    }
    return d;
}

}  // namespace mb
