#include "normalize/enedis/quoalise_landmarks.h"

namespace mb::quoalise {

Landmarks find_landmarks(const pugi::xml_node& root, bool quick) {
    Landmarks l;
    pugi::xml_node n = root.first_child();
    while (n) {
        const std::string_view local =
            n.type() == pugi::node_element ? local_name(n) : std::string_view{};
        if (local == "quoalise") {
            if (l.quoalise_count++ == 0) l.quoalise = n;
        } else if (local == "upstream-error" && !l.upstream_error) {
            l.upstream_error = n;
        } else if (local == "note" && !l.error_note && attr(n, "type") == "error") {
            l.error_note = n;
        }
        if (quick && local == "sensml") {
            if (l.unwalked_count++ == 0) l.unwalked_sensml = n;
        } else if (pugi::xml_node c = n.first_child()) {
            n = c;
            continue;
        }
        while (n != root && !n.next_sibling()) n = n.parent();
        if (n == root) break;
        n = n.next_sibling();
    }
    return l;
}

}  // namespace mb::quoalise
