// XmppStreamGuard: bounds what an XMPP server can make gloox build, checked on
// the received bytes before gloox's parser sees them. gloox 1.0.24 builds a
// tree per stanza and copies, prints and frees it recursively: a stanza nested
// some 70,000 deep (half a megabyte) overflows the stack, and a stanza that
// never ends grows without limit. The guard counts how deep elements nest (the
// stream's root included) and how many bytes the current stanza has taken (from
// the end of the previous one or of the stream header: a stream header, the
// text between stanzas and anything gloox buffers for the next one count too).
//
// It follows gloox's own tokenizer wherever gloox accepts input that XML would
// not, and counts conservatively where gloox's tree could be deeper than the
// XML is: a single-quoted attribute value also ends at '"'; a quote in a tag
// or attribute name is part of the name; an element named `stream` (any prefix)
// never closes, not even an empty one, except the stream's root at the top
// (gloox ignores every </stream:stream> and may take </stream> or <stream/>'s
// end for one); processing instructions
// other than the XML declaration are refused (gloox makes elements of them).
// A stream restart (after STARTTLS and SASL, where the old root is never
// closed) is a start tag `stream:stream` declaring exactly the streams
// namespace for `stream`, at the top: the old root alone open, or nothing. A
// <stream:stream> anywhere else is an ordinary element and counts as one.
// Input that gloox rejects itself (comments, DTDs, '<' in an attribute value,
// stray '&') may be refused here or left to gloox's parse error.
//
// Who calls: the XMPP session's gloox client, with the plaintext before TLS
// and the decrypted data after it, on the session thread. One guard per
// connection. Errors are values: feed() returns false and error() says why;
// once it has refused, it refuses everything after.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mb {

struct XmppStreamLimits {
    std::size_t max_depth = 64;                      // elements open at once, the root included
    std::size_t max_stanza_bytes = 4 * 1024 * 1024;  // bytes of one stanza as received
};

class XmppStreamGuard {
  public:
    explicit XmppStreamGuard(XmppStreamLimits limits = {});

    // The next bytes of the stream, as they arrive (any split). False when they
    // exceed a limit or cannot be followed; then error() is set for good.
    bool feed(std::string_view data);

    const std::string& error() const { return error_; }
    std::size_t depth() const { return depth_; }  // open elements, the stream's root included
    std::size_t stanza_depth() const { return depth_ - (root_is_stream_ ? 1 : 0); }
    std::size_t deepest_stanza() const { return deepest_; }  // stanza_depth()'s high mark
    std::size_t stanza_bytes() const { return stanza_bytes_; }
    std::uint64_t stream_headers() const { return headers_; }

  private:
    enum class State : std::uint8_t {
        text,        // character data, between and inside elements
        open,        // after '<' (gloox skips blanks here)
        bang,        // after "<!": "[CDATA[" or "--"
        cdata,       // inside <![CDATA[ … ]]>
        comment,     // inside <!-- … -->
        name,        // a start tag's name (or a processing instruction's target)
        in_tag,      // after the name or an attribute: blanks, attributes, '/', '?', '>'
        attr_name,   // an attribute's name
        attr_eq,     // blanks after an attribute's name, then '='
        attr_quote,  // after '=': blanks, then the opening quote
        attr_value,  // inside a quoted value
        empty_end,   // after '/' in a start tag: blanks, then '>'
        end_slash,   // after "</": blanks, then the name
        end_name,    // an end tag's name
    };

    bool step(char c);
    bool fail(std::string why);
    bool start_tag_done();
    bool empty_tag_done();
    void end_tag_done();
    void attribute_done();
    void name_start(char c);
    void name_byte(char c);
    bool open_element();
    bool at_top() const { return depth_ == 0 || (depth_ == 1 && root_is_stream_); }

    XmppStreamLimits limits_;
    State state_ = State::text;
    std::size_t depth_ = 0;
    std::size_t deepest_ = 0;
    bool root_is_stream_ = false;  // the outermost open element is a stream header
    std::size_t stanza_bytes_ = 0;
    std::uint64_t headers_ = 0;
    std::string error_;

    // The tag being read. Names and values are kept only as far as they can
    // still equal what is compared with them (a longer one is cut one past).
    std::string qname_, local_;  // prefix:local as written, and local
    bool pi_ = false;            // "<?": a processing instruction
    bool pi_question_ = false;   // its closing '?' was seen
    std::string attr_;           // the attribute's name
    bool attr_has_xmlns_ = false;
    std::size_t xmlns_match_ = 0;  // how much of "xmlns" ends the attribute name so far
    std::string value_;
    char quote_ = '"';
    int ns_declarations_ = 0;        // attributes whose name holds "xmlns" other than `xmlns`
    bool declares_streams_ = false;  // exactly xmlns:stream="http://etherx.jabber.org/streams"
    std::string bang_;               // after "<!"
    int run_ = 0;                    // ']' or '-' in a row, for "]]>" and "-->"
};

}  // namespace mb
