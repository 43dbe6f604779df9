#include "normalize/akenza/akenza_decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "normalize/akenza/akenza_json_walker.h"
#include "normalize/akenza/csv.h"
#include "normalize/detail_text.h"
#include "normalize/time_format.h"
#include "normalize/topic.h"

namespace mb {

namespace {

using akenza::shorten;

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

enum class Content : std::uint8_t { json, text, csv, xml, octet, unknown };

// MIME types are case-insensitive and may carry parameters
// ("application/json; charset=utf-8"). Only UTF-8 text is decoded.
Content classify(std::string_view content_type, std::string& charset_problem) {
    if (trim_blanks(content_type).empty())
        return Content::json;  // MQTT 3.1.1, or v5 without the property
    const auto parts = split_at(content_type, ';');
    const std::string essence = lower(trim_blanks(parts[0]));
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string_view param = trim_blanks(parts[i]);
        const std::size_t eq = param.find('=');
        if (eq == param.npos || lower(trim_blanks(param.substr(0, eq))) != "charset") continue;
        std::string_view v = trim_blanks(param.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        const std::string cs = lower(v);
        if (cs != "utf-8" && cs != "utf8" && cs != "us-ascii")
            charset_problem = fmt::format("charset '{}' is not decoded (only UTF-8)", shorten(v));
    }
    if (essence == "application/json") return Content::json;
    if (essence == "text/plain") return Content::text;
    if (essence == "text/csv") return Content::csv;
    if (essence == "application/xml") return Content::xml;
    if (essence == "application/octet-stream") return Content::octet;
    return Content::unknown;
}

constexpr std::string_view kSupportedTypes = "application/json, text/plain, text/csv";

}  // namespace

AkenzaDecoder::AkenzaDecoder(AkenzaOptions options) : options_(std::move(options)) {
    if (!options_.secret.empty())
        if (auto p = akenza_secret_problem(options_.secret); !p.empty())
            throw std::invalid_argument(p);
    if (options_.secret.empty() && !options_.accept_device_credentials)
        throw std::invalid_argument(
            "no uplink secret and device credentials not accepted: every uplink would be "
            "rejected");
    if (options_.mappings.empty()) throw std::invalid_argument("no mappings");
    const char delim = options_.csv_delimiter;
    if (delim == '"' || delim == '\r' || delim == '\n' || delim == ' ' || delim == '\0')
        throw std::invalid_argument("csv_delimiter cannot be '\"', a space, a line end or NUL");
    for (std::size_t i = 0; i < options_.mappings.size(); ++i) {
        const AkenzaMapping& m = options_.mappings[i];
        if (auto p = akenza_mapping_problem(m); !p.empty())
            throw std::invalid_argument(fmt::format("mappings[{}]: {}", i, p));
        Plan& plan = plans_[m.data_topic];
        for (const auto& t : plan.targets) {
            const AkenzaMapping& other = options_.mappings[t.mapping];
            if ((!m.quantity.empty() && other.quantity == m.quantity) ||
                (!m.state_key.empty() && other.state_key == m.state_key))
                throw std::invalid_argument(fmt::format(
                    "mappings[{}]: mappings[{}] already maps {} for data topic '{}'", i, t.mapping,
                    m.quantity.empty() ? m.state_key : m.quantity, m.data_topic));
        }
        Plan::Target target{i, plan.slot_of(m.pointer), std::nullopt};
        if (m.timestamp) target.timestamp_slot = plan.slot_of(*m.timestamp);
        plan.targets.push_back(target);
    }
}

DecodeResult AkenzaDecoder::reject(RejectCode code, std::string detail) const {
    // A detail may echo a data topic or payload text that carries the secret.
    akenza::mask_secret(detail, options_.secret);
    return DecodeResult::rejected(code, std::move(detail));
}

void AkenzaDecoder::redact(RawMessage& message) const {
    message.topic = akenza_redact_topic(message.topic, options_.secret);
    std::string& p = message.payload;
    akenza::mask_secret(p, options_.secret);
    // A payload cut short may end with the first bytes of the secret.
    if (!message.received_size || *message.received_size <= p.size()) return;
    const std::string_view secret = options_.secret;
    for (std::size_t n = std::min(p.size(), secret.empty() ? 0 : secret.size() - 1); n > 0; --n) {
        if (std::string_view(p).substr(p.size() - n) == secret.substr(0, n)) {
            p.replace(p.size() - n, n, akenza_mask);
            break;
        }
    }
}

void AkenzaDecoder::redact_text(std::string& text) const {
    akenza_redact_text(text, options_.secret);
}

DecodeResult AkenzaDecoder::decode(const RawMessage& message) {
    akenza::Uplink up;
    if (std::string problem = akenza::parse_uplink(message.topic, up); !problem.empty())
        return reject(RejectCode::bad_topic, std::move(problem));
    if (up.device) {
        if (!options_.accept_device_credentials)
            return reject(RejectCode::unauthorized,
                          "device-credential uplinks (/up/device/id/...) are not accepted "
                          "(accept_device_credentials = false)");
    } else if (options_.secret.empty()) {
        return reject(RejectCode::unauthorized,
                      "no uplink secret is configured (secret_file): only /up/device/id/... "
                      "uplinks are accepted");
    } else if (!akenza::secret_matches(up.secret, options_.secret)) {
        return reject(RejectCode::unauthorized,
                      "the uplink secret in the topic does not match secret_file");
    }
    const auto plan = plans_.find(up.data_topic);
    if (plan == plans_.end())
        return reject(RejectCode::invalid_value,
                      fmt::format("no mapping for data topic '{}'", shorten(up.data_topic)));

    std::string charset_problem;
    const Content content = classify(message.content_type, charset_problem);
    if (!charset_problem.empty())
        return reject(RejectCode::unsupported_content_type, std::move(charset_problem));
    const std::string meter(up.device_id);
    switch (content) {
        case Content::json:
            return decode_json(message, plan->second, meter);
        case Content::text:
            return decode_text(message, plan->second, meter);
        case Content::csv:
            return decode_csv(message, plan->second, meter);
        case Content::xml:
        case Content::octet:
            return reject(RejectCode::unsupported_content_type,
                          fmt::format("'{}' payloads are not decoded (supported: {})",
                                      shorten(trim_blanks(message.content_type)), kSupportedTypes));
        case Content::unknown:
            break;
    }
    return reject(RejectCode::unsupported_content_type,
                  fmt::format("unknown content type '{}' (supported: {})",
                              shorten(trim_blanks(message.content_type)), kSupportedTypes));
}

DecodeResult AkenzaDecoder::nothing_mapped(const Plan& plan, std::string_view what) const {
    return reject(RejectCode::missing_field,
                  fmt::format(fmt::runtime(what), plan.mapped_pointers(options_.mappings)));
}

DecodeResult AkenzaDecoder::decode_json(const RawMessage& m, const Plan& plan,
                                        const std::string& meter) {
    const std::string& p = m.payload;
    buffer_.assign(p);
    buffer_.resize(p.size() + simdjson::SIMDJSON_PADDING);
    slots_.assign(plan.pointers.size(), Slot{});
    // Where the parser or the walk stopped does not say that the payload is no
    // JSON document at all, or one with bytes after it: the whole payload does.
    const auto malformed = [&p, this](std::string detail) {
        return reject(RejectCode::malformed, json_malformed_detail(p, std::move(detail)));
    };
    simdjson::ondemand::document doc;
    if (auto e = parser_.iterate(buffer_.data(), p.size(), buffer_.size()).get(doc))
        return malformed(not_valid_json(e));
    if (auto r = akenza::walk_json(doc, buffer_.data(), p.size(), plan, slots_, scratch_))
        return r->code == RejectCode::malformed ? malformed(std::move(r->detail))
                                                : reject(std::move(*r));
    DecodeResult out;
    if (auto r = plan.emit(options_.mappings, slots_, meter, m.received_at, "", out))
        return reject(std::move(*r));
    if (out.readings.empty() && out.states.empty())
        return nothing_mapped(plan, "none of the mapped fields is in the payload ({})");
    return out;
}

DecodeResult AkenzaDecoder::decode_text(const RawMessage& m, const Plan& plan,
                                        const std::string& meter) {
    if (!simdjson::validate_utf8(m.payload))
        return reject(RejectCode::malformed, "text/plain payload is not valid UTF-8");
    slots_.assign(plan.pointers.size(), Slot{});
    for (std::size_t i = 0; i < plan.pointers.size(); ++i)
        if (plan.pointers[i].empty()) set_text(slots_[i], m.payload);
    DecodeResult out;
    if (auto r = plan.emit(options_.mappings, slots_, meter, m.received_at, "text/plain: ", out))
        return reject(std::move(*r));
    if (out.readings.empty() && out.states.empty())
        return nothing_mapped(plan, trim_blanks(m.payload).empty()
                                        ? "text/plain payload is empty"
                                        : "a text/plain payload is one value at the pointer \"\", "
                                          "and no mapping of this data topic has it ({})");
    return out;
}

DecodeResult AkenzaDecoder::decode_csv(const RawMessage& m, const Plan& plan,
                                       const std::string& meter) {
    if (!simdjson::validate_utf8(m.payload))
        return reject(RejectCode::malformed, "text/csv payload is not valid UTF-8");
    std::vector<akenza::CsvRow> rows;
    if (std::string problem = akenza::parse_csv(m.payload, options_.csv_delimiter, rows);
        !problem.empty())
        return reject(RejectCode::malformed, std::move(problem));
    const std::vector<std::string>* header = nullptr;
    std::size_t first = 0;
    if (options_.csv_header) {
        if (rows.empty()) return reject(RejectCode::missing_field, "text/csv: no header line");
        header = &rows[0].cells;
        first = 1;
        for (std::size_t a = 0; a < header->size(); ++a) {
            const std::string_view name = trim_blanks((*header)[a]);
            if (name.empty()) continue;
            for (std::size_t b = a + 1; b < header->size(); ++b)
                if (trim_blanks((*header)[b]) == name)
                    return reject(
                        RejectCode::invalid_value,
                        fmt::format("text/csv header: column '{}' appears twice", shorten(name)));
        }
    }
    if (rows.size() <= first) return reject(RejectCode::missing_field, "text/csv: no data line");
    std::vector<std::optional<std::size_t>> columns;
    for (const auto& tokens : plan.tokens) columns.push_back(akenza::csv_column(tokens, header));

    DecodeResult out;
    for (std::size_t r = first; r < rows.size(); ++r) {
        const akenza::CsvRow& row = rows[r];
        if (header != nullptr && row.cells.size() != header->size())
            return reject(RejectCode::invalid_value,
                          fmt::format("text/csv line {} has {} cells, the header has {}", row.line,
                                      row.cells.size(), header->size()));
        slots_.assign(plan.pointers.size(), Slot{});
        for (std::size_t i = 0; i < columns.size(); ++i)
            if (columns[i] && *columns[i] < row.cells.size())
                set_text(slots_[i], row.cells[*columns[i]]);
        const std::string where = fmt::format("text/csv line {}: ", row.line);
        if (auto res = plan.emit(options_.mappings, slots_, meter, m.received_at, where, out))
            return reject(std::move(*res));
    }
    if (out.readings.empty() && out.states.empty())
        return nothing_mapped(plan, "none of the mapped columns has a value ({})");

    // Two lines for one quantity at one time would be one dedup key twice.
    std::vector<const Reading*> sorted;
    for (const auto& rd : out.readings) sorted.push_back(&rd);
    std::sort(sorted.begin(), sorted.end(), [](const Reading* a, const Reading* b) {
        return std::tie(a->quantity, a->ts_start, a->ts_end) <
               std::tie(b->quantity, b->ts_start, b->ts_end);
    });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
        const Reading& a = *sorted[i - 1];
        const Reading& b = *sorted[i];
        if (a.quantity == b.quantity && a.ts_start == b.ts_start && a.ts_end == b.ts_end)
            return reject(RejectCode::duplicate_timestamp,
                          fmt::format("text/csv: two lines give {} at {} (map a timestamp "
                                      "column to send several lines)",
                                      a.quantity, format_iso_ms(a.ts_start)));
    }
    std::vector<const StateEvent*> states;
    for (const auto& s : out.states) states.push_back(&s);
    std::sort(states.begin(), states.end(), [](const StateEvent* a, const StateEvent* b) {
        return std::tie(a->key, a->ts) < std::tie(b->key, b->ts);
    });
    for (std::size_t i = 1; i < states.size(); ++i)
        if (states[i - 1]->key == states[i]->key && states[i - 1]->ts == states[i]->ts)
            return reject(RejectCode::duplicate_timestamp,
                          fmt::format("text/csv: two lines give state {} at {}", states[i]->key,
                                      format_iso_ms(states[i]->ts)));
    return out;
}

}  // namespace mb
