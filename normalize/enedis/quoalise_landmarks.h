// The XML tree of a quoalise answer, as the decoder reads it: elements matched
// by local name, attributes as views, and the landmarks found before the
// quoalise element is read (the quoalise element, an upstream error, an error
// note).
//
// Who calls: the quoalise decoder, on its caller's thread. Views into the
// caller's pugixml document, valid while it lives; no errors (a missing node
// or attribute is a null node or nullopt). The small helpers are inline: they
// run for every record.
#pragma once

#include <pugixml.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "normalize/topic.h"

namespace mb::quoalise {

// Elements are matched by local name: the proxy writes default namespaces, a
// client library may write prefixes.
inline std::string_view local_name(const pugi::xml_node& n) {
    // One pass over the name: this is asked of every record.
    const char* p = n.name();
    const char* local = p;
    for (; *p != '\0'; ++p)
        if (*p == ':') local = p + 1;
    return {local, static_cast<std::size_t>(p - local)};
}

inline bool is_element(const pugi::xml_node& n, std::string_view local) {
    return n.type() == pugi::node_element && local_name(n) == local;
}

inline pugi::xml_node child(const pugi::xml_node& parent, std::string_view local) {
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
        if (is_element(c, local)) return c;
    return {};
}

inline std::size_t count_children(const pugi::xml_node& parent, std::string_view local) {
    std::size_t n = 0;
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
        if (is_element(c, local)) ++n;
    return n;
}

inline std::optional<std::string_view> attr(const pugi::xml_node& n, const char* name) {
    const pugi::xml_attribute a = n.attribute(name);
    if (!a) return std::nullopt;
    return std::string_view(a.value());
}

// The first that is set: the nested meta form wins over the flat one.
inline std::optional<std::string_view> either(std::optional<std::string_view> a,
                                              std::optional<std::string_view> b) {
    return a ? a : b;
}

// What the tree holds that matters before the quoalise element is read.
struct Landmarks {
    pugi::xml_node quoalise;
    std::size_t quoalise_count = 0;
    pugi::xml_node upstream_error;
    pugi::xml_node error_note;
    // Of a quick walk: the sensml elements it did not enter (the first, and
    // how many).
    pugi::xml_node unwalked_sensml;
    std::size_t unwalked_count = 0;

    bool same_finds(const Landmarks& o) const {
        return quoalise == o.quoalise && quoalise_count == o.quoalise_count &&
               upstream_error == o.upstream_error && error_note == o.error_note;
    }
};

// Walks the tree without recursion (deeply nested input must not exhaust the
// stack). A quick walk does not enter sensml elements: their records are most
// of the tree and hold no landmarks, but a sensml may hold anything, so the
// caller has to vouch for what was skipped (the decoder checks that its record
// loop read every child of the one sensml it skipped, else walks again in full).
Landmarks find_landmarks(const pugi::xml_node& root, bool quick);

inline std::string text_of(const pugi::xml_node& n) {
    return std::string(trim_blanks(n.child_value()));
}

}  // namespace mb::quoalise
