#include "normalize/enedis/quoalise_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "normalize/detail_text.h"

namespace mb {

namespace {

constexpr std::size_t kMaxUsagePoint = 32;
constexpr int kFirstYear = 1970;
constexpr int kLastYear = 9999;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::optional<date::year_month_day> parse_day(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
    int v[3] = {0, 0, 0};
    const std::size_t from[3] = {0, 5, 8};
    const std::size_t len[3] = {4, 2, 2};
    for (std::size_t k = 0; k < 3; ++k)
        for (std::size_t i = from[k]; i < from[k] + len[k]; ++i) {
            if (!is_digit(s[i])) return std::nullopt;
            v[k] = v[k] * 10 + (s[i] - '0');
        }
    const date::year_month_day d{date::year{v[0]}, date::month{static_cast<unsigned>(v[1])},
                                 date::day{static_cast<unsigned>(v[2])}};
    if (!d.ok()) return std::nullopt;
    return d;
}

}  // namespace

std::optional<QuoaliseRequest> parse_quoalise_request_topic(std::string_view topic,
                                                            std::string& why) {
    std::array<std::string_view, 5> f;
    std::size_t count = 0;
    std::string_view rest = topic;
    while (true) {
        const auto space = rest.find(' ');
        if (count == f.size()) {
            count = f.size() + 1;
            break;
        }
        f[count++] = rest.substr(0, space);
        if (space == std::string_view::npos) break;
        rest.remove_prefix(space + 1);
    }
    const auto command = count == f.size() ? parse_quoalise_command(f[0]) : std::nullopt;
    if (!command) {
        why = fmt::format(
            "topic {} is not \"get_load_curve|get_daily <usage point> "
            "consumption|production <start YYYY-MM-DD> <end YYYY-MM-DD>\"",
            double_quoted(topic, 128));
        return std::nullopt;
    }
    const auto start = parse_day(f[3]);
    const auto end = parse_day(f[4]);
    if (!start || !end) {
        why = fmt::format("topic {}: {} is not a date (YYYY-MM-DD)", double_quoted(topic, 128),
                          double_quoted(start ? f[4] : f[3]));
        return std::nullopt;
    }
    QuoaliseRequest req{*command, std::string(f[1]), std::string(f[2]), *start, *end};
    if (auto problem = quoalise_request_problem(req)) {
        why = fmt::format("topic {}: {}", double_quoted(topic, 128), *problem);
        return std::nullopt;
    }
    return req;
}

std::string_view to_string(QuoaliseCommand c) {
    return c == QuoaliseCommand::daily ? "get_daily" : "get_load_curve";
}

std::optional<QuoaliseCommand> parse_quoalise_command(std::string_view s) {
    if (s == "get_load_curve") return QuoaliseCommand::load_curve;
    if (s == "get_daily") return QuoaliseCommand::daily;
    return std::nullopt;
}

std::optional<std::string> quoalise_request_problem(const QuoaliseRequest& req) {
    if (req.command != QuoaliseCommand::load_curve && req.command != QuoaliseCommand::daily)
        return std::string("unknown command");
    const std::string_view up = req.usage_point;
    if (up.empty() || up.size() > kMaxUsagePoint || !std::all_of(up.begin(), up.end(), is_digit))
        return fmt::format("usage point {} is not 1 to {} digits", double_quoted(up),
                           kMaxUsagePoint);
    if (req.direction != "consumption" && req.direction != "production")
        return fmt::format("direction {} is not consumption or production",
                           double_quoted(req.direction));
    for (const auto& d : {req.start_date, req.end_date})
        if (!d.ok() || d.year() < date::year{kFirstYear} || d.year() > date::year{kLastYear})
            return fmt::format("date {} is not a day of years {} to {}",
                               d.ok() ? format_day(d) : std::string("(invalid)"), kFirstYear,
                               kLastYear);
    if (date::sys_days{req.end_date} <= date::sys_days{req.start_date})
        return fmt::format("end date {} is not after start date {}", format_day(req.end_date),
                           format_day(req.start_date));
    return std::nullopt;
}

std::string quoalise_request_topic(const QuoaliseRequest& req) {
    return fmt::format("{} {} {} {} {}", to_string(req.command), req.usage_point, req.direction,
                       format_day(req.start_date), format_day(req.end_date));
}

std::optional<QuoaliseRequest> parse_quoalise_request_topic(std::string_view topic) {
    std::string why;
    return parse_quoalise_request_topic(topic, why);
}

std::string format_day(date::year_month_day d) {
    return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                       static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

}  // namespace mb
