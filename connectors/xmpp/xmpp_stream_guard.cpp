#include "connectors/xmpp/xmpp_stream_guard.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace mb {

namespace {

constexpr std::string_view kStreamsNs = "http://etherx.jabber.org/streams";
constexpr std::string_view kXmlns = "xmlns";
constexpr std::string_view kNsAttribute = "xmlns:stream";
constexpr std::string_view kStreamHeader = "stream:stream";

// gloox's isWhitespace().
bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Appends while `s` can still equal a string of `cap` bytes; one byte more
// marks it longer than that.
void keep(std::string& s, char c, std::size_t cap) {
    if (s.size() <= cap) s += c;
}

// The error for byte `c` where the grammar does not allow it, `where` saying where.
std::string malformed(char c, std::string_view where) {
    return fmt::format("malformed XML ('{}' {})", c, where);
}

}  // namespace

XmppStreamGuard::XmppStreamGuard(XmppStreamLimits limits) : limits_(limits) {}

bool XmppStreamGuard::feed(std::string_view data) {
    if (!error_.empty()) return false;
    for (const char c : data) {
        if (++stanza_bytes_ > limits_.max_stanza_bytes)
            return fail(fmt::format("a stanza larger than {} bytes", limits_.max_stanza_bytes));
        if (!step(c)) return false;
    }
    return true;
}

bool XmppStreamGuard::fail(std::string why) {
    error_ = std::move(why);
    return false;
}

bool XmppStreamGuard::step(char c) {
    switch (state_) {
        case State::text:
            if (c == '<') state_ = State::open;
            return true;

        case State::open:
            if (blank(c)) return true;
            qname_.clear();
            local_.clear();
            pi_ = pi_question_ = false;
            ns_declarations_ = 0;
            declares_streams_ = false;
            switch (c) {
                case '/':
                    state_ = State::end_slash;
                    return true;
                case '?':
                    pi_ = true;
                    state_ = State::name;
                    return true;
                case '!':
                    bang_.clear();
                    state_ = State::bang;
                    return true;
                case '<':
                case '>':
                case '&':
                    return fail(malformed(c, "after '<'"));
                default:
                    name_start(c);
                    state_ = State::name;
                    return true;
            }

        case State::bang:
            bang_ += c;
            if (bang_ == "--") {
                run_ = 0;
                state_ = State::comment;
            } else if (bang_ == "[CDATA[") {
                run_ = 0;
                state_ = State::cdata;
            } else if (!std::string_view("[CDATA[").starts_with(bang_) &&
                       !std::string_view("--").starts_with(bang_)) {
                return fail("a document type declaration (not allowed in XMPP)");
            }
            return true;

        case State::cdata:
        case State::comment: {
            const char dash = state_ == State::cdata ? ']' : '-';
            if (c == '>' && run_ >= 2) {
                state_ = State::text;
            } else if (c == dash) {
                run_ = run_ < 2 ? run_ + 1 : 2;
            } else {
                run_ = 0;
            }
            return true;
        }

        case State::name:
            if (blank(c)) {
                state_ = State::in_tag;
                return true;
            }
            switch (c) {
                case '/':
                    state_ = State::empty_end;
                    return true;
                case '>':
                    return start_tag_done();
                case '<':
                case '?':
                case '!':
                case '&':
                    return fail(malformed(c, "in a tag name"));
                default:
                    name_byte(c);
                    return true;
            }

        case State::in_tag:
            if (blank(c)) return true;
            switch (c) {
                case '/':
                    state_ = State::empty_end;
                    return true;
                case '>':
                    return start_tag_done();
                case '?':
                    if (!pi_ || pi_question_) return fail("malformed XML ('?' in a tag)");
                    pi_question_ = true;
                    return true;
                case '<':
                case '!':
                case '&':
                    return fail(malformed(c, "in a tag"));
                default:
                    // gloox takes anything else, quotes and '=' included, for a name.
                    attr_.assign(1, c);
                    attr_has_xmlns_ = false;
                    xmlns_match_ = c == 'x' ? 1 : 0;
                    state_ = State::attr_name;
                    return true;
            }

        case State::attr_name:
            if (blank(c)) {
                state_ = State::attr_eq;
                return true;
            }
            switch (c) {
                case '=':
                    value_.clear();
                    state_ = State::attr_quote;
                    return true;
                case '<':
                case '/':
                case '>':
                case '?':
                case '!':
                case '&':
                    return fail(malformed(c, "in an attribute name"));
                default:
                    keep(attr_, c, kNsAttribute.size());
                    // "xmlns" has no border: a mismatch restarts at this byte.
                    if (xmlns_match_ < kXmlns.size() && c == kXmlns[xmlns_match_])
                        ++xmlns_match_;
                    else if (xmlns_match_ < kXmlns.size())
                        xmlns_match_ = c == 'x' ? 1 : 0;
                    if (xmlns_match_ == kXmlns.size()) attr_has_xmlns_ = true;
                    return true;
            }

        case State::attr_eq:
            if (blank(c)) return true;
            if (c != '=') return fail("malformed XML (no '=' after an attribute name)");
            value_.clear();
            state_ = State::attr_quote;
            return true;

        case State::attr_quote:
            if (blank(c)) return true;
            if (c != '"' && c != '\'') return fail("malformed XML (an attribute value not quoted)");
            quote_ = c;
            state_ = State::attr_value;
            return true;

        case State::attr_value:
            if (c == '<') return fail("malformed XML ('<' in an attribute value)");
            // gloox ends a value at its own quote, and a single-quoted one at '"' too.
            if (c == quote_ || c == '"') {
                attribute_done();
                state_ = State::in_tag;
                return true;
            }
            keep(value_, c, kStreamsNs.size());
            return true;

        case State::empty_end:
            if (blank(c)) return true;
            if (c != '>') return fail("malformed XML ('/' inside a tag)");
            return empty_tag_done();

        case State::end_slash:
            if (blank(c)) return true;
            if (c == '>' || c == '<' || c == '/') return fail(malformed(c, "after '</'"));
            name_start(c);
            state_ = State::end_name;
            return true;

        case State::end_name:
            switch (c) {
                case '>':
                    end_tag_done();
                    return true;
                case '<':
                case '/':
                case '!':
                case '?':
                case '&':
                    return fail(malformed(c, "in an end tag"));
                default:
                    name_byte(c);
                    return true;
            }
    }
    return true;
}

// The first byte of an element's name (a ':' too is kept as it is).
void XmppStreamGuard::name_start(char c) {
    keep(qname_, c, kStreamHeader.size());
    keep(local_, c, kStreamHeader.size());
}

// A byte of an element's name after its first: a ':' ends the prefix, the
// local name starts again after it.
void XmppStreamGuard::name_byte(char c) {
    keep(qname_, c, kStreamHeader.size());
    if (c == ':')
        local_.clear();
    else
        keep(local_, c, kStreamHeader.size());
}

void XmppStreamGuard::attribute_done() {
    if (attr_ == kXmlns) return;  // the default namespace: not what gloox looks at for a prefix
    if (attr_has_xmlns_ || attr_ == kNsAttribute) {
        ++ns_declarations_;
        declares_streams_ = attr_ == kNsAttribute && value_ == kStreamsNs;
    }
}

bool XmppStreamGuard::open_element() {
    if (depth_ == 0) root_is_stream_ = false;
    if (++depth_ > limits_.max_depth)
        return fail(fmt::format("XML nested deeper than {} levels", limits_.max_depth));
    deepest_ = std::max(deepest_, stanza_depth());
    return true;
}

bool XmppStreamGuard::start_tag_done() {
    state_ = State::text;
    if (pi_) {
        // The XML declaration: gloox drops it (and whatever element it was in).
        if (qname_ == "xml" && pi_question_) return true;
        return fail("a processing instruction (not allowed in XMPP)");
    }
    if (qname_ == kStreamHeader && ns_declarations_ == 1 && declares_streams_ && at_top()) {
        depth_ = 1;
        root_is_stream_ = true;
        stanza_bytes_ = 0;
        ++headers_;
        return true;
    }
    return open_element();
}

bool XmppStreamGuard::empty_tag_done() {
    state_ = State::text;
    if (pi_) return fail("a processing instruction (not allowed in XMPP)");
    // gloox does not close an empty <…:stream/>: it stays open.
    if (local_ == "stream") return open_element();
    if (!open_element()) return false;
    --depth_;
    if (at_top()) stanza_bytes_ = 0;
    return true;
}

void XmppStreamGuard::end_tag_done() {
    state_ = State::text;
    if (local_ == "stream") {
        // gloox ignores </stream:stream> (and </stream> after a `stream:` tag); the
        // stream's root is closed only as the last open element.
        if (depth_ == 1 && root_is_stream_) {
            depth_ = 0;
            root_is_stream_ = false;
            stanza_bytes_ = 0;
        }
        return;
    }
    if (depth_ == 0 || (depth_ == 1 && root_is_stream_)) return;  // gloox's parse error
    --depth_;
    if (at_top()) stanza_bytes_ = 0;
}

}  // namespace mb
