// The proxy's <upstream-error>: read from what the XMPP transport hands over
// (name, resolved namespace, element text) and written into a reject reason.
#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <string>

#include "normalize/enedis/upstream_error.h"

namespace mb {
namespace {

constexpr std::string_view kStanzas = "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'";

std::optional<UpstreamError> quoalise(std::string_view xml) {
    return parse_upstream_error("upstream-error", kQuoaliseNamespace, xml);
}

TEST(UpstreamErrorTest, IssuerAndCodeAreRead) {
    const auto u = quoalise(
        "<upstream-error xmlns='urn:quoalise:0' issuer='enedis-data-connect' "
        "code='ADAM-ERR0123'/>");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->issuer, "enedis-data-connect");
    EXPECT_EQ(u->code, "ADAM-ERR0123");
}

TEST(UpstreamErrorTest, AnAbsentAttributeStaysAbsentAndAnEmptyOneEmpty) {
    const auto u = quoalise("<upstream-error xmlns='urn:quoalise:0' issuer=''/>");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->issuer, "");
    EXPECT_FALSE(u->code);
}

TEST(UpstreamErrorTest, EntitiesAndPrefixesAreThoseOfXml) {
    const auto u =
        quoalise(R"(<q:upstream-error xmlns:q="urn:quoalise:0" issuer="a&amp;b" code="&#x41;1"/>)");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->issuer, "a&b");
    EXPECT_EQ(u->code, "A1");
}

TEST(UpstreamErrorTest, OtherElementsNamespacesAndNonXmlAreNotOne) {
    const std::string xml = "<upstream-error issuer='x' code='y'/>";
    EXPECT_FALSE(parse_upstream_error("upstream-error", "urn:quoalise:1", xml));
    EXPECT_FALSE(parse_upstream_error("upstream-error", "", xml));
    EXPECT_FALSE(parse_upstream_error("error-upstream", kQuoaliseNamespace, xml));
    // The name given and the element must agree.
    EXPECT_FALSE(quoalise("<other issuer='x'/>"));
    EXPECT_FALSE(quoalise("<upstream-error issuer='x'"));
    EXPECT_FALSE(quoalise(""));
}

std::string detail(const std::string& iq) {
    pugi::xml_document doc;
    EXPECT_TRUE(doc.load_string(iq.c_str())) << iq;
    const pugi::xml_node error = doc.document_element().child("error");
    return upstream_error_detail(error, error.child("upstream-error"));
}

TEST(UpstreamErrorTest, DetailSaysConditionTextAndUpstream) {
    EXPECT_EQ(detail(std::string("<iq type='error'><error type='cancel'><undefined-condition ") +
                     std::string(kStanzas) + "/><text " + std::string(kStanzas) +
                     ">\n  The requested period is too old \t</text>"
                     "<upstream-error xmlns='urn:quoalise:0' issuer='enedis-data-connect' "
                     "code='ADAM-ERR0123'/></error></iq>"),
              "undefined-condition: The requested period is too old (upstream "
              "enedis-data-connect code ADAM-ERR0123)");
}

TEST(UpstreamErrorTest, DetailTakesTheFirstConditionAndTheFirstNonEmptyText) {
    EXPECT_EQ(detail("<iq><error><upstream-error/><a:item-not-found xmlns:a='x'/><conflict/>"
                     "<text> </text><text>first</text><text>second</text></error></iq>"),
              "item-not-found: first");
}

TEST(UpstreamErrorTest, DetailWithoutConditionOrUpstreamSaysError) {
    EXPECT_EQ(detail("<iq type='error'><error/></iq>"), "error");
    EXPECT_EQ(detail("<iq><error><upstream-error code='X1'/></error></iq>"),
              "error (upstream code X1)");
    EXPECT_EQ(detail("<iq><error><text>no data</text><upstream-error issuer='e'/></error></iq>"),
              "error: no data (upstream e)");
}

TEST(UpstreamErrorTest, DetailKeepsTheUpstreamsWordsPrintableAndShort) {
    const std::string long_text(300, 'x');
    const std::string d = detail("<iq><error><bad-request/><text>" + long_text +
                                 "</text><upstream-error issuer='a&#10;b'/></error></iq>");
    EXPECT_EQ(d.find('\n'), std::string::npos) << d;
    EXPECT_NE(d.find("(upstream a\\u000ab)"), std::string::npos) << d;
    EXPECT_LT(d.size(), 300u) << d;
}

}  // namespace
}  // namespace mb
