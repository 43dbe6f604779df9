#include "connectors/enedis/enedis_options.h"

#include <fmt/format.h>

#include <cmath>
#include <set>
#include <span>

#include "normalize/config/table_reader.h"

namespace mb {

namespace {

using std::chrono::milliseconds;

constexpr std::string_view kStampings[] = {"auto", "start", "end"};

constexpr KeySpec kEnedisKeys[] = {
    {.name = "jid",
     .required = true,
     .description = "the connector's full JID, local@domain/resource"},
    {.name = "password_file",
     .type = KeyType::secret_file,
     .required = true,
     .description = "file holding the XMPP password"},
    {.name = "proxy",
     .required = true,
     .description = "full JID of the DataConnect proxy (ad-hoc commands go there)"},
    {.name = "server",
     .description = "connect here instead of the JID's domain (default: SRV records)"},
    {.name = "port",
     .type = KeyType::integer,
     .default_value = "5222",
     .min = 1,
     .max = 65535,
     .description = "the XMPP server's port, with server"},
    {.name = "ca_file",
     .description = "trust anchor for the server certificate (default: the system store)"},
    {.name = "tls",
     .type = KeyType::boolean,
     .default_value = "true",
     .description = "false (plaintext) only towards a loopback server"},
    {.name = "tls_insecure",
     .type = KeyType::boolean,
     .default_value = "false",
     .description = "skip certificate and host name verification (tests only; warned)"},
    {.name = "stamping",
     .type = KeyType::choice,
     .default_value = "auto",
     .choices = kStampings,
     .description = "whether a load curve's timestamps mark the start or end of an interval"},
    {.name = "request_timeout",
     .type = KeyType::duration,
     .default_value = "30s",
     .range = "1s..600s",
     .description = "how long a request may wait for the proxy's answer"},
    {.name = "ping_interval",
     .type = KeyType::duration,
     .default_value = "60s",
     .range = "5s..3600s",
     .description = "XMPP ping to keep the session alive and detect its loss"},
    {.name = "rate_limit",
     .type = KeyType::number,
     .default_value = "1",
     .range = "above 0, at most 5",
     .description = "requests per second, all jobs together"},
    {.name = "publish_time",
     .default_value = "08:00",
     .range = "HH:MM",
     .description = "Europe/Paris time when yesterday's data is out"},
};

constexpr KeySpec kScheduleKey = {
    .name = "schedule",
    .range = "\"daily HH:MM\" | \"every <duration>\" | \"once\"",
    .description = "when the job runs (Europe/Paris); required by fetch jobs"};

constexpr KeySpec kAuthorizeKeys[] = {
    {.name = "service_name",
     .required = true,
     .description = "the service's name on the consent page"},
    {.name = "service",
     .type = KeyType::strings,
     .description = "lines describing the service on the consent page"},
    {.name = "processings",
     .type = KeyType::strings,
     .description = "lines describing the processings on the consent page"},
    {.name = "description",
     .description = "the whole description, instead of service and processings"},
    {.name = "logo_url", .range = "https://...", .description = "the service's logo"},
    {.name = "duration",
     .required = true,
     .range = "ISO-8601 period: \"P1Y\", \"P6M\", \"P30D\"",
     .description = "how long the consent lasts"},
    {.name = "redirect_uri",
     .range = "http(s)://...",
     .description = "where the customer is sent after consenting"},
    {.name = "test_client",
     .type = KeyType::integer,
     .min = 0,
     .max = 9,
     .description = "the upstream's test client number (sandbox)"},
    kScheduleKey,
};

constexpr KeySpec kFetchKeys[] = {
    {.name = "usage_points",
     .type = KeyType::strings,
     .required = true,
     .range = "PRMs (14 digits), or \"granted\"",
     .description = "the usage points to fetch; \"granted\": every one with a granted consent"},
    {.name = "directions",
     .type = KeyType::strings,
     .default_value = "[\"consumption\"]",
     .range = "\"consumption\" | \"production\"",
     .description = "which energy flows to fetch"},
    {.name = "backfill",
     .type = KeyType::duration,
     .default_value = "P7D",
     .range = "whole days, at least one",
     .description = "how far back the first runs fetch"},
    kScheduleKey,
};

constexpr KeySpec kUnknownCommandKeys[] = {kScheduleKey};

constexpr JobSpec kEnedisJobs[] = {
    {"get_authorize_uri", "a consent page URI to send to a customer", kAuthorizeKeys},
    {"get_load_curve", "load curves (average power per interval)", kFetchKeys},
    {"get_daily", "daily energy", kFetchKeys},
};

bool is_prm(std::string_view s) {
    if (s.size() != 14) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// ISO-8601 period as the consent page takes it: P[nY][nM][nW][nD].
bool is_period(std::string_view s) {
    if (s.size() < 3 || s[0] != 'P') return false;
    bool digits = false, any = false;
    std::string_view order = "YMWD";
    std::size_t next = 0;
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (c >= '0' && c <= '9') {
            digits = true;
            continue;
        }
        const auto at = order.find(c, next);
        if (!digits || at == std::string_view::npos) return false;
        next = at + 1;
        digits = false;
        any = true;
    }
    return any && !digits;
}

void parse_authorize(TableReader& r, EnedisJobOptions& o) {
    EnedisAuthorizeJob a;
    if (auto v = r.text("service_name")) {
        if (v->empty()) r.error("service_name", "must not be empty");
        a.service_name = *v;
    }
    if (auto v = r.string_list("service")) a.service = *v;
    if (auto v = r.string_list("processings")) a.processings = *v;
    a.description = r.text("description");
    if (!a.description && a.service.empty() && a.processings.empty())
        r.error("service",
                "give `service` and `processings` (lines shown on the consent page), or "
                "`description`: the proxy refuses a request without a description");
    a.logo_url = r.text("logo_url");
    if (a.logo_url && a.logo_url->rfind("https://", 0) != 0)
        r.error("logo_url", "must be an https:// URL");
    if (auto d = r.text("duration")) {
        if (!is_period(*d))
            r.error("duration",
                    fmt::format("'{}' is not an ISO-8601 period such as \"P1Y\", \"P6M\", \"P30D\"",
                                *d));
        a.duration = *d;
    }
    a.redirect_uri = r.text("redirect_uri");
    if (a.redirect_uri && a.redirect_uri->rfind("https://", 0) != 0 &&
        a.redirect_uri->rfind("http://", 0) != 0)
        r.error("redirect_uri", "must be an http:// or https:// URL");
    if (auto t = r.integer("test_client")) a.test_client = static_cast<int>(*t);
    o.authorize = std::move(a);
}

void parse_fetch(TableReader& r, EnedisJobOptions& o, FetchKind kind) {
    EnedisFetchJob f;
    f.kind = kind;
    if (auto ups = r.string_list("usage_points")) {
        if (ups->size() == 1 && (*ups)[0] == "granted") {
            f.granted = true;
        } else if (ups->empty()) {
            r.error("usage_points", "list at least one usage point (PRM), or say \"granted\"");
        } else {
            std::set<std::string> seen;
            for (const auto& u : *ups) {
                if (!is_prm(u))
                    r.error("usage_points",
                            fmt::format("'{}' is not a usage point: 14 digits (or \"granted\" "
                                        "alone: every usage point with a granted consent)",
                                        u));
                else if (!seen.insert(u).second)
                    r.error("usage_points", fmt::format("'{}' is listed twice", u));
            }
            f.usage_points = *ups;
        }
    } else if (!r.has("usage_points")) {
        r.error("usage_points", "missing required key: a list of PRMs, or \"granted\"");
    }
    f.directions = {"consumption"};
    if (auto ds = r.string_list("directions", [](std::string_view d) -> std::string {
            if (d == "consumption" || d == "production") return {};
            return "must be \"consumption\" or \"production\"";
        })) {
        if (ds->empty()) r.error("directions", "must list at least one direction");
        std::set<std::string> unique(ds->begin(), ds->end());
        if (unique.size() != ds->size()) r.error("directions", "a direction is listed twice");
        f.directions = *ds;
    }
    // The upstream keeps about 24 months of load curve and 36 of daily energy.
    const std::int64_t max_days = kind == FetchKind::load_curve ? 730 : 1095;
    if (auto b = r.duration("backfill")) {
        const auto day = milliseconds(86400000);
        if (*b % day != milliseconds(0) || *b < day) {
            r.error("backfill", "must be a whole number of days, at least one (\"P365D\")");
        } else {
            f.backfill_days = *b / day;
            if (f.backfill_days > max_days)
                r.warning("backfill",
                          fmt::format("{} days: the upstream keeps about {} days of {}; older "
                                      "windows end the backfill when it says so",
                                      f.backfill_days, max_days,
                                      kind == FetchKind::load_curve ? "load curve" : "daily data"));
        }
    }
    o.fetch = std::move(f);
}

}  // namespace

std::string full_jid_problem(std::string_view jid) {
    const auto at = jid.find('@');
    const auto slash = jid.find('/');
    if (at == std::string_view::npos || at == 0)
        return "must be local@domain/resource (no local part)";
    if (slash == std::string_view::npos || slash < at)
        return "must be a full JID, local@domain/resource (no resource)";
    if (slash == at + 1) return "must be local@domain/resource (no domain)";
    if (slash + 1 == jid.size()) return "must be local@domain/resource (empty resource)";
    if (jid.size() > 3071) return "is longer than 3071 bytes";
    return {};
}

std::shared_ptr<const ConnectorOptions> parse_enedis_options(TableReader& r, ConnectorConfig&) {
    r.declare(kEnedisKeys);
    auto o = std::make_shared<EnedisOptions>();
    if (auto j = r.text("jid")) {
        if (auto p = full_jid_problem(*j); !p.empty()) r.error("jid", p);
        o->jid = *j;
    }
    if (auto p = r.text("password_file")) o->password_file = *p;
    if (auto p = r.text("proxy")) {
        if (auto why = full_jid_problem(*p); !why.empty())
            r.error("proxy", why + ": ad-hoc commands go to the proxy's full JID");
        o->proxy = *p;
    }
    if (auto s = r.text("server")) {
        if (s->empty())
            r.error("server", "must not be empty (leave it out to use the JID's domain)");
        o->server = *s;
    }
    if (auto p = r.integer("port")) o->port = static_cast<std::uint16_t>(*p);
    if (auto c = r.text("ca_file")) o->ca_file = *c;
    if (auto t = r.boolean("tls")) {
        o->tls = *t;
        const std::string host =
            !o->server.empty()
                ? o->server
                : o->jid.substr(o->jid.find('@') + 1, o->jid.find('/') - o->jid.find('@') - 1);
        if (!*t && !is_loopback_host(host))
            r.error("tls", fmt::format("plaintext XMPP is allowed only to a loopback server; "
                                       "'{}' is not one",
                                       host));
    }
    if (auto t = r.boolean("tls_insecure")) {
        o->tls_insecure = *t;
        if (*t)
            r.warning("tls_insecure",
                      "certificate and host name verification of the XMPP server are OFF");
    }
    if (auto s = r.text("stamping"))
        o->stamping = *parse_stamp_convention(*s);
    auto bounded = [&](std::string_view key, milliseconds lo, milliseconds hi, milliseconds& out) {
        auto d = r.duration(key);
        if (!d) return;
        if (*d < lo || *d > hi)
            r.error(key, fmt::format("must be between {} s and {} s", lo.count() / 1000,
                                     hi.count() / 1000));
        else
            out = *d;
    };
    bounded("request_timeout", milliseconds(1000), milliseconds(600000), o->request_timeout);
    bounded("ping_interval", milliseconds(5000), milliseconds(3600000), o->ping_interval);
    if (auto rl = r.number("rate_limit")) {
        if (!std::isfinite(*rl) || *rl <= 0 || *rl > 5)
            r.error("rate_limit",
                    "requests per second, above 0 and at most 5 (the upstream's limit)");
        else
            o->rate_limit = *rl;
    }
    if (auto p = r.text("publish_time")) {
        std::string why;
        auto s = parse_schedule("daily " + *p, why);
        if (!s)
            r.error("publish_time", "a Europe/Paris time HH:MM, e.g. \"08:00\"");
        else
            o->publish_minute = s->minute_of_day;
    }
    return o;
}

std::span<const KeySpec> enedis_keys() {
    return kEnedisKeys;
}

std::span<const JobSpec> enedis_jobs() {
    return kEnedisJobs;
}

std::shared_ptr<const JobOptions> parse_enedis_job(TableReader& r, const JobConfig& job) {
    std::span<const KeySpec> keys = kUnknownCommandKeys;
    for (const JobSpec& j : kEnedisJobs)
        if (j.command == job.command) keys = j.keys;
    r.declare(keys);
    auto o = std::make_shared<EnedisJobOptions>();
    if (job.command == "get_authorize_uri") {
        parse_authorize(r, *o);
    } else if (job.command == "get_load_curve") {
        parse_fetch(r, *o, FetchKind::load_curve);
    } else if (job.command == "get_daily") {
        parse_fetch(r, *o, FetchKind::daily);
    } else if (!job.command.empty()) {
        r.error("command", fmt::format("'{}' is not an enedis command (get_authorize_uri, "
                                       "get_load_curve, get_daily)",
                                       job.command));
    }
    const bool fetch = o->fetch.has_value();
    if (auto s = r.text("schedule")) {
        std::string why;
        if (auto parsed = parse_schedule(*s, why))
            o->schedule = *parsed;
        else
            r.error("schedule", why);
    } else if (fetch) {
        r.error("schedule",
                "missing required key: \"daily HH:MM\" (Europe/Paris), \"every 6h\" "
                "or \"once\"");
    }
    return o;
}

}  // namespace mb
