// The request a quoalise response answers, and its text form: the
// RawMessage::topic under which the Enedis connector stores a response
// ("get_load_curve <usage point> <direction> <start> <end>"), so that a stored
// raw message can be decoded again later like any MQTT message.
//
// Who calls: the Enedis connector (on its XMPP thread, building requests and
// topics), QuoaliseDecoder (parsing the topic of each message), the CLI and
// tests. Pure functions on plain values; any thread; a request or topic that
// is not valid is a returned reason, never an exception.
#pragma once

#include <date/date.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mb {

// The XEP-0050 command a response answers.
enum class QuoaliseCommand : std::uint8_t { load_curve, daily };

// "get_load_curve" / "get_daily": the command's node name.
std::string_view to_string(QuoaliseCommand c);
std::optional<QuoaliseCommand> parse_quoalise_command(std::string_view s);

// What the connector asked for. Days are French local days, start inclusive,
// end exclusive, as in the command's form.
struct QuoaliseRequest {
    QuoaliseCommand command = QuoaliseCommand::load_curve;
    std::string usage_point;  // the PRM: 1 to 32 ASCII digits (Enedis writes 14)
    std::string direction;    // "consumption" | "production"
    date::year_month_day start_date;
    date::year_month_day end_date;  // after start_date

    bool operator==(const QuoaliseRequest&) const = default;
};

// Why `req` cannot be sent or used to decode (empty usage point, unknown
// direction, invalid or reversed dates, years outside 1970..9999); nullopt when
// it is valid.
std::optional<std::string> quoalise_request_problem(const QuoaliseRequest& req);

// "get_load_curve <usage_point> <direction> <start_date> <end_date>" (or
// get_daily …), dates as YYYY-MM-DD: the RawMessage::topic of a response.
std::string quoalise_request_topic(const QuoaliseRequest& req);

// The request of such a topic: exactly five fields separated by single
// spaces, and a valid request; nullopt otherwise.
std::optional<QuoaliseRequest> parse_quoalise_request_topic(std::string_view topic);

// parse_quoalise_request_topic, with the one-line reason (for a bad_topic
// reject) when the topic is not valid.
std::optional<QuoaliseRequest> parse_quoalise_request_topic(std::string_view topic,
                                                            std::string& why);

// "YYYY-MM-DD".
std::string format_day(date::year_month_day d);

}  // namespace mb
