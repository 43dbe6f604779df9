#include "normalize/enedis/quoalise_decoder.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "normalize/detail_text.h"
#include "normalize/enedis/paris_day.h"
#include "normalize/enedis/quoalise_landmarks.h"
#include "normalize/enedis/quoalise_number.h"
#include "normalize/enedis/quoalise_readings.h"
#include "normalize/enedis/senml_reader.h"
#include "normalize/enedis/upstream_error.h"
#include "normalize/topic.h"

namespace mb {

namespace {

using namespace quoalise;

// Far above any answer (a year of daily values, a week of 10-minute load
// curve, are a few tens of KiB), low enough that pugixml's DOM stays small.
constexpr std::size_t kMaxPayload = std::size_t{16} << 20;

// The configuration's spelling of each convention.
constexpr std::array<std::pair<StampConvention, std::string_view>, 3> kStampNames{{
    {StampConvention::start, "start"},
    {StampConvention::end, "end"},
    {StampConvention::auto_detect, "auto"},
}};

QuoaliseDecoding rejected(RejectCode code, std::string detail) {
    return QuoaliseDecoding{DecodeResult::rejected(code, std::move(detail)), std::nullopt};
}

std::string_view expected_quantity(QuoaliseCommand c) {
    return c == QuoaliseCommand::daily ? "energy" : "power";
}

// One response: the document's landmarks, its meta, then its records through
// a SenmlReader and the whole series through quoalise_readings.h.
class Decoding {
  public:
    Decoding(const QuoaliseRequest& req, StampConvention conv) : req_(req), conv_(conv) {}

    QuoaliseDecoding run(std::string_view xml);

  private:
    const QuoaliseRequest& req_;
    StampConvention conv_;
    std::optional<std::int64_t> sampling_s_;
    const Unit* meta_unit_ = nullptr;
    // The sensml whose children were all read and hold nothing: no landmark.
    pugi::xml_node plain_sensml_;

    bool daily() const { return req_.command == QuoaliseCommand::daily; }

    QuoaliseDecoding read_document(const pugi::xml_node& root, const Landmarks& marks);
    std::optional<QuoaliseDecoding> read_meta(const pugi::xml_node& meta);
};

QuoaliseDecoding Decoding::run(std::string_view xml) {
    if (auto problem = quoalise_request_problem(req_))
        return rejected(RejectCode::bad_topic, fmt::format("request: {}", *problem));
    if (xml.size() > kMaxPayload)
        return rejected(RejectCode::oversized,
                        fmt::format("{} bytes, above the {} bytes limit", xml.size(), kMaxPayload));

    pugi::xml_document doc;
    // parse_doctype keeps the DOCTYPE as a node so that it can be refused;
    // pugixml never expands entities beyond the five predefined ones either way.
    const pugi::xml_parse_result parsed = doc.load_buffer(
        xml.data(), xml.size(), pugi::parse_default | pugi::parse_doctype, pugi::encoding_utf8);
    if (!parsed)
        return rejected(RejectCode::malformed, fmt::format("not well-formed XML at byte {}: {}",
                                                           parsed.offset, parsed.description()));
    pugi::xml_node root;
    for (pugi::xml_node n = doc.first_child(); n; n = n.next_sibling()) {
        if (n.type() == pugi::node_doctype)
            return rejected(RejectCode::invalid_value,
                            "DOCTYPE is not allowed (XMPP forbids DTDs; entities are never "
                            "expanded)");
        if (n.type() != pugi::node_element) continue;
        // pugixml accepts several top-level elements; XML does not.
        if (root)
            return rejected(RejectCode::malformed,
                            fmt::format("more than one root element (<{}> and <{}>)",
                                        printable(root.name()), printable(n.name())));
        root = n;
    }

    // A document is nearly all records, in one sensml: reading them should
    // not cost a second walk. So the landmarks are first those of a walk that
    // skips sensml elements, and the record loop checks that its sensml holds
    // nothing but records without content. When that does not vouch for every
    // skipped sensml (another one, content, a rejection before the end), the
    // full walk decides, and a document where it finds more is read again.
    const Landmarks quick = find_landmarks(doc, true);
    QuoaliseDecoding out = read_document(root, quick);
    if (quick.unwalked_count == 0 ||
        (quick.unwalked_count == 1 && quick.unwalked_sensml == plain_sensml_))
        return out;
    const Landmarks full = find_landmarks(doc, false);
    if (full.same_finds(quick)) return out;
    return Decoding(req_, conv_).read_document(root, full);
}

QuoaliseDecoding Decoding::read_document(const pugi::xml_node& root, const Landmarks& marks) {
    if (is_element(root, "iq") && attr(root, "type") == "error")
        return rejected(RejectCode::upstream_error,
                        upstream_error_detail(child(root, "error"), marks.upstream_error));
    if (!marks.quoalise) {
        if (marks.upstream_error)
            return rejected(
                RejectCode::upstream_error,
                upstream_error_detail(marks.upstream_error.parent(), marks.upstream_error));
        if (marks.error_note) {
            const std::string note = text_of(marks.error_note);
            return rejected(RejectCode::upstream_error,
                            note.empty() ? std::string("note: error")
                                         : fmt::format("note: {}", printable(note, 256)));
        }
        return rejected(RejectCode::missing_field, "no quoalise element");
    }
    if (marks.quoalise_count > 1)
        return rejected(
            RejectCode::invalid_value,
            fmt::format("{} quoalise elements; a response holds one", marks.quoalise_count));

    const std::size_t data_count = count_children(marks.quoalise, "data");
    if (data_count == 0) return rejected(RejectCode::missing_field, "quoalise: no data element");
    if (data_count > 1)
        return rejected(RejectCode::invalid_value,
                        fmt::format("quoalise: {} data elements; {} answers with one", data_count,
                                    to_string(req_.command)));
    const pugi::xml_node data = child(marks.quoalise, "data");
    const pugi::xml_node meta = child(data, "meta");
    if (!meta) return rejected(RejectCode::missing_field, "data: no meta element");
    if (auto r = read_meta(meta)) return std::move(*r);
    const pugi::xml_node sensml = child(data, "sensml");
    if (!sensml) return rejected(RejectCode::missing_field, "data: no sensml element");

    // One allocation rather than a dozen as the records come.
    std::size_t children = 0;
    for (pugi::xml_node c = sensml.first_child(); c; c = c.next_sibling()) ++children;
    SenmlReader reader(req_, meta_unit_, sampling_s_);
    reader.pending().reserve(children);
    std::size_t index = 0;
    bool plain = true;
    for (pugi::xml_node c = sensml.first_child(); c; c = c.next_sibling()) {
        if (c.first_child()) plain = false;
        if (c.type() != pugi::node_element) continue;  // comments, as in the document
        if (local_name(c) != "senml")
            return rejected(RejectCode::unknown_field,
                            fmt::format("sensml record {}: <{}> is not a senml element", index,
                                        printable(c.name())));
        if (auto r = reader.read(c, index)) return rejected(r->code, std::move(r->detail));
        ++index;
    }
    if (plain) plain_sensml_ = sensml;
    if (daily()) return daily_readings(req_, reader.pending());
    return load_curve_readings(req_, conv_, *sampling_s_, reader.pending());
}

std::optional<QuoaliseDecoding> Decoding::read_meta(const pugi::xml_node& meta) {
    const pugi::xml_node identifier = child(child(meta, "device"), "identifier");
    const auto id = attr(identifier, "value");
    if (!id) return rejected(RejectCode::missing_field, "meta: no device identifier value");
    if (trim_blanks(*id) != req_.usage_point)
        return rejected(RejectCode::invalid_value,
                        fmt::format("meta: identifier {} is not the requested usage point {}",
                                    double_quoted(*id), req_.usage_point));

    const pugi::xml_node m = child(meta, "measurement");
    if (!m) return rejected(RejectCode::missing_field, "meta: no measurement element");
    const auto direction = either(attr(child(m, "business"), "direction"), attr(m, "direction"));
    const auto quantity = either(attr(child(m, "physical"), "quantity"), attr(m, "quantity"));
    const auto unit_text = either(attr(child(m, "physical"), "unit"), attr(m, "unit"));
    const auto aggregation = either(attr(child(m, "aggregate"), "type"), attr(m, "aggregation"));
    const auto sampling =
        either(attr(child(m, "sampling"), "interval"), attr(m, "sampling-interval"));

    // The direction is what tells consumption from production: without it a
    // response could be stored under the wrong quantity.
    if (!direction) return rejected(RejectCode::missing_field, "meta: no measurement direction");
    if (*direction != req_.direction)
        return rejected(RejectCode::invalid_value,
                        fmt::format("meta: direction {} is not the requested {}",
                                    double_quoted(*direction), req_.direction));
    if (quantity && *quantity != expected_quantity(req_.command))
        return rejected(
            RejectCode::invalid_value,
            fmt::format("meta: quantity {} is not {}, which {} answers", double_quoted(*quantity),
                        expected_quantity(req_.command), to_string(req_.command)));
    if (unit_text) {
        meta_unit_ = find_unit(*unit_text);
        if (!meta_unit_)
            return rejected(RejectCode::invalid_value,
                            fmt::format("meta: unit {} is not one of {}", double_quoted(*unit_text),
                                        kUnitNames));
        if (meta_unit_->energy != daily())
            return rejected(RejectCode::invalid_value,
                            fmt::format("meta: unit {} is not one of {}, which {} answers",
                                        double_quoted(*unit_text), expected_units(req_.command),
                                        to_string(req_.command)));
    }
    if (aggregation) {
        const bool fits =
            daily() ? *aggregation == "sum" : (*aggregation == "average" || *aggregation == "mean");
        if (!fits)
            return rejected(
                RejectCode::invalid_value,
                fmt::format("meta: aggregation {} is not {}, which {} answers",
                            double_quoted(*aggregation), daily() ? "sum" : "average (mean)",
                            to_string(req_.command)));
    }
    if (!sampling) {
        if (daily()) return std::nullopt;
        return rejected(RejectCode::missing_field, "meta: no sampling interval");
    }
    const auto seconds = parse_interval_seconds(*sampling);
    if (!seconds)
        return rejected(RejectCode::invalid_value,
                        fmt::format("meta: sampling interval {} is neither seconds nor an ISO-8601 "
                                    "duration",
                                    double_quoted(*sampling)));
    if (daily()) {
        if (*seconds != 86400)
            return rejected(
                RejectCode::invalid_value,
                fmt::format("meta: sampling interval {} is not one day, which get_daily "
                            "answers",
                            double_quoted(*sampling)));
        return std::nullopt;
    }
    // Dividing the hour keeps every interval inside one UTC offset period and
    // on the same grid before and after a DST switch.
    if (*seconds < 60 || *seconds > 3600 || 3600 % *seconds != 0)
        return rejected(RejectCode::invalid_value,
                        fmt::format("meta: sampling interval {} ({} s) is not a load-curve step "
                                    "(60 s to 1 h, dividing the hour)",
                                    double_quoted(*sampling), *seconds));
    sampling_s_ = *seconds;
    return std::nullopt;
}

}  // namespace

std::string_view to_string(StampConvention c) {
    for (const auto& [value, name] : kStampNames)
        if (value == c) return name;
    return "auto";
}

std::optional<StampConvention> parse_stamp_convention(std::string_view s) {
    for (const auto& [value, name] : kStampNames)
        if (name == s) return value;
    return std::nullopt;
}

QuoaliseDecoding decode_quoalise_detailed(std::string_view xml, const QuoaliseRequest& req,
                                          StampConvention conv) {
    if (!paris_zone())
        return QuoaliseDecoding{
            DecodeResult::rejected(RejectCode::invalid_value,
                                   "the time zone Europe/Paris is not in the system tz database "
                                   "(install tzdata); French days cannot be computed"),
            std::nullopt};
    return Decoding(req, conv).run(xml);
}

DecodeResult decode_quoalise(std::string_view xml, const QuoaliseRequest& req,
                             StampConvention conv) {
    return decode_quoalise_detailed(xml, req, conv).result;
}

DecodeResult QuoaliseDecoder::decode(const RawMessage& message) {
    std::string why;
    const auto req = parse_quoalise_request_topic(message.topic, why);
    if (!req) return DecodeResult::rejected(RejectCode::bad_topic, std::move(why));
    return decode_quoalise(message.payload, *req, conv_);
}

}  // namespace mb
