#include "daemon/http/status_model.h"

#include <fmt/format.h>

#include <array>
#include <exception>
#include <optional>
#include <set>
#include <string>

#include "normalize/detail_text.h"
#include "storage/query.h"

namespace mb::http {

const std::string_view kChartReadingsSql =
    "SELECT ts_start, ts_end, value FROM readings WHERE series_id = ?1 AND ts_start >= ?2 AND "
    "ts_start < ?3 ORDER BY ts_start, ts_end LIMIT ?4";

namespace {

constexpr std::size_t kMaxParameters = 16;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded: '+' is a space, %HH a byte; nullopt
// when a '%' is not followed by two hex digits.
std::optional<std::string> form_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

void load_chart(sql::Db& db, const PageQuery& q, TimeMs now, StatusPage& p) {
    sql::Stmt find(db,
                   "SELECT id, unit, kind FROM series WHERE source = ?1 AND meter = ?2 AND "
                   "quantity = ?3");
    if (!find.run(*q.source, *q.meter, *q.quantity)) {
        p.errors.push_back(fmt::format("no series {} / {} / {} is stored", mb::quoted(*q.source),
                                       mb::quoted(*q.meter), mb::quoted(*q.quantity)));
        return;
    }
    Chart c;
    std::int64_t id = 0;
    find.read(id, c.series.unit, c.series.kind);
    c.series.source = *q.source;
    c.series.meter = *q.meter;
    c.series.quantity = *q.quantity;
    c.to = now;
    c.from = now - window_ms(q.window);
    sql::Stmt st(db, kChartReadingsSql);
    st.bind(1, id).bind(2, c.from).bind(3, c.to).bind(
        4, static_cast<std::int64_t>(kMaxLoadedReadings + 1));
    while (st.step()) {
        if (c.readings.size() == kMaxLoadedReadings) {
            c.readings_truncated = true;
            break;
        }
        auto& r = c.readings.emplace_back();
        st.read(r.ts_start, r.ts_end, r.value);
    }
    p.chart = std::move(c);
}

}  // namespace

PageQuery parse_page_query(std::string_view target) {
    PageQuery q;
    const auto qpos = target.find('?');
    if (qpos == std::string_view::npos) return q;
    std::string_view rest = target.substr(qpos + 1);
    std::set<std::string> seen;
    std::size_t count = 0;
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto piece = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (piece.empty()) continue;
        if (++count > kMaxParameters) {
            q.errors.push_back(
                fmt::format("more than {} parameters; the rest is ignored", kMaxParameters));
            break;
        }
        const auto eq = piece.find('=');
        const auto name = form_decode(piece.substr(0, eq));
        const auto value =
            form_decode(eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1));
        if (!name || !value) {
            q.errors.push_back(
                fmt::format("parameter {} is not valid percent-encoding", mb::quoted(piece)));
            continue;
        }
        if (name->size() > kMaxParameterBytes || value->size() > kMaxParameterBytes) {
            q.errors.push_back(fmt::format("parameter {} is longer than {} bytes",
                                           mb::quoted(*name), kMaxParameterBytes));
            continue;
        }
        if (!seen.insert(*name).second) {
            q.errors.push_back(fmt::format("parameter {} is given twice", mb::quoted(*name)));
            continue;
        }
        // An empty field of the form means "not chosen".
        if (*name == "source" || *name == "meter" || *name == "quantity") {
            if (value->empty()) continue;
            auto& field = *name == "source" ? q.source : *name == "meter" ? q.meter : q.quantity;
            field = *value;
        } else if (*name == "window") {
            if (value->empty()) continue;
            bool known = false;
            for (const auto w : {Window::day, Window::week, Window::month})
                if (*value == to_string(w)) q.window = w, known = true;
            if (!known)
                q.errors.push_back(
                    fmt::format("window must be P1D, P7D or P30D, not {}", mb::quoted(*value)));
        } else {
            q.errors.push_back(
                fmt::format("unknown parameter {} (known: source, meter, quantity, window)",
                            mb::quoted(*name)));
        }
    }
    if ((q.source || q.meter || q.quantity) && !q.chosen()) {
        std::string missing;
        for (const auto& [n, v] : std::array<std::pair<std::string_view, bool>, 3>{
                 {{"source", q.source.has_value()},
                  {"meter", q.meter.has_value()},
                  {"quantity", q.quantity.has_value()}}})
            if (!v) missing += missing.empty() ? std::string(n) : ", " + std::string(n);
        q.errors.push_back("a chart needs source, meter and quantity; missing: " + missing);
    }
    return q;
}

StatusPage load_status_page(sql::Db& db, const PageQuery& q, TimeMs now) {
    StatusPage p;
    p.now = now;
    p.query = q;
    try {
        p.sources = source_stats(db);
        for_each_rejected(db, std::nullopt, static_cast<std::int64_t>(kMaxRejects),
                          [&](const RejectedRow& r) { p.rejects.push_back(r); });
        p.jobs = latest_job_runs(db, static_cast<std::int64_t>(kMaxRows + 1));
        p.consents = load_consents(db, std::nullopt);
        sql::Stmt st(db,
                     "SELECT source, meter, quantity, unit, kind FROM series ORDER BY source, "
                     "meter, quantity LIMIT ?1");
        st.bind(1, static_cast<std::int64_t>(kMaxSeriesChoices + 1));
        while (st.step()) {
            if (p.series.size() == kMaxSeriesChoices) {
                p.series_truncated = true;
                break;
            }
            auto& s = p.series.emplace_back();
            st.read(s.source, s.meter, s.quantity, s.unit, s.kind);
        }
        if (q.chosen()) load_chart(db, q, now, p);
    } catch (const std::exception& e) {
        p.errors.push_back(fmt::format("the database could not be read: {}", e.what()));
    }
    return p;
}

}  // namespace mb::http
