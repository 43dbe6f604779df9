#include "connectors/xmpp/xmpp_stanza_codec.h"

#include <fmt/format.h>
#include <gloox/tag.h>

#include <stdexcept>
#include <string_view>

namespace mb {

namespace {

constexpr std::string_view kStanzasNs = "urn:ietf:params:xml:ns:xmpp-stanzas";
constexpr std::string_view kCommandsNs = "http://jabber.org/protocol/commands";
constexpr std::string_view kDataFormsNs = "jabber:x:data";

void split_lines(const std::string& v, std::vector<std::string>& out) {
    std::size_t start = 0;
    for (;;) {
        const std::size_t nl = v.find('\n', start);
        std::string line =
            v.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(std::move(line));
        if (nl == std::string::npos) return;
        start = nl + 1;
    }
}

}  // namespace

std::unique_ptr<gloox::Tag> adhoc_execute(const std::string& node,
                                          const std::vector<AdhocField>& fields) {
    auto bad = [&](const std::string& what) {
        return std::invalid_argument(
            fmt::format("ad-hoc command {}: {} is not valid UTF-8", node, what));
    };
    auto cmd = std::make_unique<gloox::Tag>("command");
    cmd->setXmlns(std::string(kCommandsNs));
    if (!cmd->addAttribute("node", node)) throw bad("the node");
    cmd->addAttribute("action", "execute");
    auto* x = new gloox::Tag(cmd.get(), "x");
    x->setXmlns(std::string(kDataFormsNs));
    x->addAttribute("type", "submit");
    for (const AdhocField& f : fields) {
        std::string type = f.type;
        if (type.empty())
            type = (f.values.size() != 1 || f.var == "description" || f.var == "service" ||
                    f.var == "processings")
                       ? "text-multi"
                       : "text-single";
        auto* field = new gloox::Tag(x, "field");
        if (!field->addAttribute("var", f.var)) throw bad("field name " + f.var);
        field->addAttribute("type", type);
        std::vector<std::string> values;
        for (const auto& v : f.values) {
            if (type == "text-multi")
                split_lines(v, values);
            else
                values.push_back(v);
        }
        for (const auto& v : values) {
            auto* value = new gloox::Tag(field, "value");
            if (!value->setCData(v)) throw bad("a value of field " + f.var);
        }
    }
    return cmd;
}

XmppStanzaError parse_stanza_error(const gloox::Tag& stanza) {
    XmppStanzaError e;
    const gloox::Tag* err = stanza.findChild("error");
    if (!err) return e;
    e.type = err->findAttribute("type");
    for (const gloox::Tag* c : err->children()) {
        if (c->xmlns() == kStanzasNs) {
            if (c->name() == "text") {
                e.text = c->cdata();
            } else if (e.condition.empty()) {
                e.condition = c->name();
            }
        } else {
            e.extensions.push_back({c->name(), c->xmlns(), c->xml()});
        }
    }
    return e;
}

}  // namespace mb
