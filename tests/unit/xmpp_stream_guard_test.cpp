// XmppStreamGuard: what a server's XML may do before gloox parses it. The
// gloox-specific cases were each checked against gloox 1.0.24's own parser:
// repeated 200,000 times, every one of them crashes it (a tree that deep).
#include "connectors/xmpp/xmpp_stream_guard.h"

#include <gloox/parser.h>
#include <gloox/tag.h>
#include <gloox/taghandler.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace mb {
namespace {

using ::testing::HasSubstr;

const std::string kHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' id='3f1c' from='meterbridge.test' "
    "version='1.0' xml:lang='en'>";

std::string repeat(const std::string& s, std::size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

// A whole login as prosody sends it: STARTTLS, SASL, bind, then a load-curve
// answer; each restart opens a new root while the old one stays open.
std::string login_transcript() {
    return kHeader +
           "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
           "</starttls></stream:features><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" +
           kHeader +
           "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
           "<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>"
           "</stream:features>"
           "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1mb28=</challenge>"
           "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1iYXI=</success>" +
           kHeader +
           "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
           "<iq type='result' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
           "<jid>bridge@meterbridge.test/mb</jid></bind></iq>\n"
           R"(<iq from="proxy@meterbridge.test/proxy" type="result" id="ab63a">)"
           R"(<command xmlns="http://jabber.org/protocol/commands" node="get_load_curve" )"
           R"(status="completed"><x xmlns="jabber:x:data" type="result"><title>Load curve</title>)"
           R"(<field var="result" type="fixed"><value>Success</value></field></x>)"
           R"(<quoalise xmlns="urn:quoalise:0"><data><meta><device type="electricity-meter">)"
           R"(<identifier authority="enedis" type="prm" value="10284856584123" /></device>)"
           R"(<measurement><sampling interval="1800" /></measurement></meta>)"
           R"(<sensml xmlns="urn:ietf:params:xml:ns:senml">)"
           R"(<senml bn="urn:dev:prm:10284856584123_production_load" bt="1600041600" t="0" )"
           R"(v="245" bu="W" /><senml t="1800" v="420" /></sensml></data></quoalise>)"
           R"(</command></iq>)"
           "  <iq type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>";
}

TEST(XmppStreamGuard, FollowsALoginAndItsStreamRestarts) {
    XmppStreamGuard g;
    ASSERT_TRUE(g.feed(login_transcript())) << g.error();
    EXPECT_EQ(g.stream_headers(), 3u);
    EXPECT_EQ(g.depth(), 1u);  // the last stream's root
    EXPECT_EQ(g.stanza_depth(), 0u);
    EXPECT_EQ(g.stanza_bytes(), 0u);
    ASSERT_TRUE(g.feed("</stream:stream>"));
    EXPECT_EQ(g.depth(), 0u);
}

TEST(XmppStreamGuard, AnySplitOfTheInputGivesTheSameResult) {
    const std::string t = login_transcript() + "<message><body>a &amp; b</body></message>";
    for (std::size_t cut = 0; cut <= t.size(); ++cut) {
        XmppStreamGuard g;
        ASSERT_TRUE(g.feed(std::string_view(t).substr(0, cut))) << cut << ": " << g.error();
        ASSERT_TRUE(g.feed(std::string_view(t).substr(cut))) << cut << ": " << g.error();
        ASSERT_EQ(g.depth(), 1u) << cut;
        ASSERT_EQ(g.stream_headers(), 3u) << cut;
    }
    XmppStreamGuard bytes;
    for (const char c : t) ASSERT_TRUE(bytes.feed(std::string_view(&c, 1))) << bytes.error();
    EXPECT_EQ(bytes.depth(), 1u);
}

TEST(XmppStreamGuard, RefusesNestingPastTheLimitCountingTheRoot) {
    XmppStreamGuard g;
    // The root and 63 levels: 64 open.
    ASSERT_TRUE(g.feed(kHeader + "<message>" + repeat("<a>", 62))) << g.error();
    EXPECT_EQ(g.depth(), 64u);
    EXPECT_FALSE(g.feed("<a>"));
    EXPECT_EQ(g.error(), "XML nested deeper than 64 levels");
    // It stays refused, whatever comes next.
    EXPECT_FALSE(g.feed("</a>"));
    EXPECT_FALSE(g.feed(""));

    // 100,000 levels of <stream:features> before any login: refused at the 65th.
    XmppStreamGuard features;
    EXPECT_FALSE(features.feed(kHeader + "<stream:features>" + repeat("<a>", 100000)));
    EXPECT_EQ(features.depth(), 65u);

    // Deep but closed again each time is fine: depth, not volume.
    XmppStreamGuard wide;
    EXPECT_TRUE(wide.feed(
        kHeader + repeat("<message>" + repeat("<a>", 60) + repeat("</a>", 60) + "</message>", 100)))
        << wide.error();
    EXPECT_EQ(wide.depth(), 1u);

    XmppStreamGuard small(XmppStreamLimits{4, 1024});
    EXPECT_TRUE(small.feed("<a><b><c><d/></c></b></a>")) << small.error();
    EXPECT_FALSE(small.feed("<a><b><c><d><e/>"));
    EXPECT_EQ(small.error(), "XML nested deeper than 4 levels");
}

TEST(XmppStreamGuard, RefusesAStanzaPastTheSizeLimit) {
    const XmppStreamLimits limits{64, 1000};
    const std::string body = "<message><body>" + std::string(900, 'x') + "</body></message>";
    ASSERT_LT(body.size(), 1000u);

    XmppStreamGuard g(limits);
    ASSERT_TRUE(g.feed(kHeader)) << g.error();
    // Each stanza is counted on its own.
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(g.feed(body)) << i << ": " << g.error();
    EXPECT_EQ(g.stanza_bytes(), 0u);
    EXPECT_FALSE(g.feed("<message><body>" + std::string(1000, 'x')));
    EXPECT_EQ(g.error(), "a stanza larger than 1000 bytes");

    // Exactly at the limit is fine; one byte more is not.
    XmppStreamGuard exact(limits);
    ASSERT_TRUE(exact.feed(kHeader));
    const std::string open = "<m>", close = "</m>";
    EXPECT_TRUE(exact.feed(open + std::string(1000 - open.size() - close.size(), 'x') + close));
    EXPECT_FALSE(exact.feed(open + std::string(1001 - open.size() - close.size(), 'x') + close));

    // What gloox buffers for the next stanza counts: text between stanzas, CDATA.
    XmppStreamGuard between(limits);
    ASSERT_TRUE(between.feed(kHeader + std::string(600, ' ')));
    EXPECT_EQ(between.stanza_bytes(), 600u);
    EXPECT_FALSE(between.feed("<a><![CDATA[" + std::string(500, 'y') + "]]></a>"));

    // A stream header that never ends is a stanza that never ends.
    XmppStreamGuard header(limits);
    EXPECT_FALSE(header.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' a='" +
                             std::string(2000, 'a')));
    EXPECT_EQ(header.error(), "a stanza larger than 1000 bytes");

    // The default leaves room for the largest answer asked for many times over.
    EXPECT_EQ(XmppStreamLimits{}.max_stanza_bytes, 4u * 1024 * 1024);
}

TEST(XmppStreamGuard, QuotedValuesCommentsAndCdataHideNoTags) {
    XmppStreamGuard g(XmppStreamLimits{4, 1 << 20});
    ASSERT_TRUE(g.feed(kHeader));
    // '>' and '/' inside values; an empty tag with blanks before '>'.
    ASSERT_TRUE(g.feed(R"(<m a='>' b="/>" c='/'><x y="a>b" /><z/ ></m>)")) << g.error();
    EXPECT_EQ(g.depth(), 1u);
    // Tags inside CDATA and comments are text.
    ASSERT_TRUE(g.feed("<m><![CDATA[<a><a><a><a><a>]]]></m>")) << g.error();
    EXPECT_EQ(g.depth(), 1u);
    ASSERT_TRUE(g.feed("<m><!-- <a><a><a><a><a> -- -> --></m>")) << g.error();
    EXPECT_EQ(g.depth(), 1u);
    // Entities are text, '<' and all.
    ASSERT_TRUE(g.feed("<m a='&lt;a&gt;'>&lt;a&gt;&#60;a&#62;</m>")) << g.error();
    EXPECT_EQ(g.depth(), 1u);
    // Blanks where gloox allows them: after '<' and "</".
    ASSERT_TRUE(g.feed("< m>< n/></ n></m>")) << g.error();
    EXPECT_EQ(g.depth(), 1u);
}

// gloox 1.0.24's tokenizer, where it differs from XML: each of these nests
// gloox's tree one level per repetition, so each must count (or be refused).
TEST(XmppStreamGuard, CountsWhatGlooxNestsWhereXmlWouldNot) {
    struct Case {
        const char* what;
        std::string prefix, repeated;
        const char* error;
    };
    const std::vector<Case> cases = {
        {"a single-quoted value ends at '\"' too", "<message>", "<a b='x\">", "nested deeper"},
        {"a quote is part of a tag name", "<message>", "<a\"b>", "nested deeper"},
        {"an empty element named stream is never closed", "<message>", "<stream:stream/>",
         "nested deeper"},
        {"an empty element named stream, no prefix", "<message>", "<stream/>", "nested deeper"},
        {"</stream> after a stream: tag closes nothing", "<message>", "<stream:a></stream>",
         "nested deeper"},
        {"</stream:stream> closes nothing inside a stanza", "<message>", "<a></stream:stream>",
         "nested deeper"},
        {"a stream header inside a stanza is an element", "<message>", kHeader.substr(21),
         "nested deeper"},
        {"a stream header without the namespace is an element", "",
         "<stream:stream xmlns='jabber:client'>", "nested deeper"},
        {"a header declaring the prefix twice is an element", "",
         "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
         "xmlns:stream='urn:other'>",
         "nested deeper"},
        {"a header also declaring a:xmlns:stream is an element", "",
         "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
         "a:xmlns:stream='urn:other'>",
         "nested deeper"},
        {"a header with the namespace as an entity is an element", "",
         "<stream:stream xmlns:stream='http&#58;//etherx.jabber.org/streams'>", "nested deeper"},
        {"a processing instruction opens an element in gloox", "<message>", "<?a ?>",
         "a processing instruction"},
        {"an XML declaration closed by '/>'", "<message>", "<?xml/>", "a processing instruction"},
        {"an empty target", "", "<?>", "a processing instruction"},
    };
    for (const auto& c : cases) {
        XmppStreamGuard g;
        EXPECT_FALSE(g.feed(kHeader + c.prefix + repeat(c.repeated, 200)))
            << c.what << ": depth " << g.depth();
        EXPECT_THAT(g.error(), HasSubstr(c.error)) << c.what;
    }
}

TEST(XmppStreamGuard, ARestartAtTheTopReplacesTheRoot) {
    XmppStreamGuard g;
    const std::string header = kHeader.substr(21);  // without the XML declaration
    ASSERT_TRUE(g.feed(repeat(header + "<stream:features/>", 1000))) << g.error();
    EXPECT_EQ(g.depth(), 1u);
    EXPECT_EQ(g.stream_headers(), 1000u);
    // After the old stream was closed, and before any stream at all.
    ASSERT_TRUE(g.feed("</stream:stream>" + header));
    EXPECT_EQ(g.depth(), 1u);
    // A header with the prefix declared on it, the default namespace and
    // attributes in any order.
    XmppStreamGuard other;
    ASSERT_TRUE(
        other.feed("<stream:stream version=\"1.0\" "
                   "xmlns:stream=\"http://etherx.jabber.org/streams\" "
                   "xmlns=\"jabber:client\"><a/>"));
    EXPECT_EQ(other.stream_headers(), 1u);
    EXPECT_EQ(other.depth(), 1u);
}

TEST(XmppStreamGuard, RefusesWhatXmppForbids) {
    XmppStreamGuard doctype;
    EXPECT_FALSE(doctype.feed("<!DOCTYPE x [<!ENTITY a 'b'>]>"));
    EXPECT_THAT(doctype.error(), HasSubstr("document type declaration"));
    XmppStreamGuard lt;
    EXPECT_FALSE(lt.feed(kHeader + "<a b='<'>"));
    EXPECT_THAT(lt.error(), HasSubstr("malformed XML"));
}

// gloox's own parser, for comparing: the depth of each tree it delivers.
class DepthRecorder : public gloox::TagHandler {
  public:
    void handleTag(gloox::Tag* tag) override {
        // A stream header comes alone: the stream's root, not a stanza.
        if (tag->name() == "stream" && tag->children().empty()) return;
        max_ = std::max(max_, depth(tag));
    }
    std::size_t max() const { return max_; }

  private:
    static std::size_t depth(const gloox::Tag* t) {
        std::size_t d = 0;
        for (const gloox::Tag* c : t->children()) d = std::max(d, depth(c));
        return d + 1;
    }
    std::size_t max_ = 0;
};

// Random streams of the pieces above: whatever gloox builds from what the
// guard let through is never deeper than the guard counted.
TEST(XmppStreamGuard, NeverCountsLessThanGlooxBuilds) {
    const std::vector<std::string> pieces = {
        kHeader.substr(21),
        "<?xml version='1.0'?>",
        "<stream:stream xmlns='jabber:client'>",
        "<stream:features>",
        "</stream:features>",
        "</stream:stream>",
        "<stream:stream/>",
        "<stream/>",
        "<stream:a>",
        "</stream>",
        "</stream:a>",
        "<a>",
        "<a>",
        "</a>",
        "</a>",
        "<a/>",
        "<a b='x\">",
        "<a b=\"x'y\">",
        "<a\"b>",
        "</a\"b>",
        "<a b='>' c=\"/>\">",
        "<a/ >",
        "<m>",
        "</m>",
        "<![CDATA[<a>]]>",
        "text",
        " ",
        "&amp;",
        "<?a ?>",
    };
    std::mt19937 rng(20240613);
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    std::size_t compared = 0;
    for (int round = 0; round < 20000; ++round) {
        XmppStreamGuard guard(XmppStreamLimits{1000, 1 << 20});
        DepthRecorder recorder;
        gloox::Parser parser(&recorder);
        std::string fed;
        for (int i = 0; i < 40; ++i) {
            std::string piece = pieces[pick(rng)];
            if (!guard.feed(piece)) break;
            fed += piece;
            if (parser.feed(piece) >= 0) break;  // gloox's own parse error ends the stream
            ++compared;
            ASSERT_LE(recorder.max(), guard.deepest_stanza()) << fed;
        }
    }
    EXPECT_GT(compared, 50000u);
}

}  // namespace
}  // namespace mb
