#include "connectors/enedis/enedis_jobs.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "normalize/config/table_reader.h"
#include "normalize/detail_text.h"

namespace mb {

namespace {

constexpr int kMaxAttempts = 5;
constexpr TimeMs kFirstRetryMs = 30'000;
constexpr TimeMs kMaxRetryMs = 3'600'000;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

date::year_month_day ymd(Day d) {
    return date::year_month_day{d};
}

// The first element named `name` (local name, any namespace) under `node`.
pugi::xml_node find_local(pugi::xml_node node, std::string_view name) {
    for (pugi::xml_node n : node.children()) {
        std::string_view full = n.name();
        const auto colon = full.find(':');
        if ((colon == std::string_view::npos ? full : full.substr(colon + 1)) == name) return n;
        if (auto found = find_local(n, name)) return found;
    }
    return {};
}

std::string html_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace

bool is_no_older_data(const EnedisFailure& f) {
    if (f.kind != EnedisFailure::Kind::error) return false;
    const std::string t = lower(f.text);
    return t.find("anterior to the meter's last activation date") != std::string::npos ||
           t.find("antérieure à la date de dernière mise en service") != std::string::npos ||
           t.find("no data before") != std::string::npos;
}

bool is_no_consent(const EnedisFailure& f) {
    if (f.kind != EnedisFailure::Kind::error) return false;
    if (f.code == "ADAM-DC-0008" || f.code == "ADAM-DC-0007") return true;
    const std::string t = lower(f.text);
    return t.find("no consent can be found") != std::string::npos ||
           t.find("n'est pas titulaire du point") != std::string::npos;
}

std::string authorize_uri_with(const std::string& uri, const EnedisAuthorizeJob& job) {
    std::string out = uri;
    char sep = uri.find('?') == std::string::npos ? '?' : '&';
    auto add = [&](std::string_view k, const std::string& v) {
        out += sep;
        out += k;
        out += '=';
        out += percent_encode(v);
        sep = '&';
    };
    if (!job.duration.empty()) add("duration", job.duration);
    if (job.redirect_uri) add("redirect_uri", *job.redirect_uri);
    if (job.test_client) add("test_client", std::to_string(*job.test_client));
    return out;
}

EnedisJobs::EnedisJobs(std::string source, const EnedisOptions& options,
                       std::vector<JobConfig> jobs, EnedisState state, TimeMs now)
    : source_(std::move(source)), options_(options), state_(std::move(state)) {
    for (auto& j : jobs) {
        Job job;
        job.config = std::move(j);
        job.options = dynamic_cast<const EnedisJobOptions*>(job.config.options.get());
        if (!job.options) continue;
        // A fetch job plans at start: what a stopped or killed run left missing
        // is fetched now, not at the next scheduled time (what is done is not
        // asked again). An authorize job runs again only when its URI is missing.
        if (auto it = state_.last_runs.find(job.config.name);
            it != state_.last_runs.end() && job.options->authorize &&
            state_.authorized_jobs.count(job.config.name))
            job.last_run = it->second;
        jobs_.push_back(std::move(job));
    }
    std::mt19937_64 rng{std::random_device{}()};
    key_prefix_ = fmt::format("{:x}-{:x}", rng() & 0xffffff, now);
}

std::vector<std::string> EnedisJobs::granted(TimeMs now) const {
    std::vector<std::string> out;
    for (const auto& [up, expires] : state_.consents)
        if (!expires || *expires > now) out.push_back(up);
    return out;
}

EnedisState::Progress& EnedisJobs::progress(const Task& t) {
    return state_.progress[{t.job, t.usage_point, t.direction}];
}

void EnedisJobs::save_progress(const Task& t, TimeMs now, Envelope& env) {
    const auto& p = progress(t);
    env.progress.push_back(JobProgressUpdate{
        t.job, t.usage_point, t.direction, p.done.to_string(),
        p.floor ? std::optional<std::string>(format_day(*p.floor)) : std::nullopt, now});
}

void EnedisJobs::plan(Job& job, const std::vector<std::string>& usage_points, TimeMs now,
                      bool front) {
    std::vector<Task> tasks;
    if (job.options->authorize) {
        tasks.push_back(Task{job.config.name, {}, {}, {}, 0, now});
    } else if (const auto& f = job.options->fetch) {
        for (const auto& up : usage_points)
            for (const auto& dir : f->directions) {
                const auto& p = state_.progress[{job.config.name, up, dir}];
                FetchPlanInput in;
                in.kind = f->kind;
                in.now = now;
                in.backfill_days = f->backfill_days;
                in.publish_minute = options_.publish_minute;
                in.floor = p.floor;
                in.done = p.done;
                for (const DayRange& w : plan_windows(in)) {
                    // Already queued or in flight: keep the one there.
                    auto same = [&](const Task& q) {
                        return q.job == job.config.name && q.usage_point == up &&
                               q.direction == dir && q.window == w;
                    };
                    if (std::any_of(queue_.begin(), queue_.end(), same)) continue;
                    if (in_flight_ && same(in_flight_->second)) continue;
                    tasks.push_back(Task{job.config.name, up, dir, w, 0, now});
                }
            }
    }
    if (front)
        queue_.insert(queue_.begin(), tasks.begin(), tasks.end());
    else
        queue_.insert(queue_.end(), tasks.begin(), tasks.end());
}

void EnedisJobs::schedule(TimeMs now) {
    for (Job& job : jobs_) {
        const auto due = next_run(job.options->schedule, job.last_run, now);
        if (!job.forced && (!due || *due > now)) continue;
        job.forced = false;
        job.last_run = now;
        if (job.options->fetch && job.options->fetch->granted)
            plan(job, granted(now), now, false);
        else if (job.options->fetch)
            plan(job, job.options->fetch->usage_points, now, false);
        else
            plan(job, {}, now, false);
    }
}

const EnedisJobs::Job* EnedisJobs::find_job(const std::string& name) const {
    for (const Job& j : jobs_)
        if (j.config.name == name) return &j;
    return nullptr;
}

bool EnedisJobs::run_now(const std::string& name, TimeMs now) {
    for (Job& job : jobs_)
        if (job.config.name == name) {
            job.forced = true;
            for (Task& t : queue_)
                if (t.job == name) t.not_before = std::min(t.not_before, now);
            return true;
        }
    return false;
}

TimeMs EnedisJobs::min_gap() const {
    // Times are whole milliseconds, truncated: a call sent at 1000.9 ms reads 1000. One
    // millisecond more than 1/rate_limit (rounded up) keeps every real gap above it, so
    // no second ever holds more than rate_limit calls, whatever window the upstream counts.
    return static_cast<TimeMs>(std::ceil(1000.0 / options_.rate_limit)) + 1;
}

TimeMs EnedisJobs::next_wakeup(TimeMs now) const {
    TimeMs next = now + 60'000;  // schedules are checked at least once a minute
    if (in_flight_) return next;
    for (const Task& t : queue_)
        next = std::min(next, std::max(t.not_before, last_sent_ + min_gap()));
    for (const Job& job : jobs_) {
        if (job.forced) return now;
        if (auto due = next_run(job.options->schedule, job.last_run, now))
            next = std::min(next, *due);
    }
    return std::max(next, now);
}

std::optional<EnedisCall> EnedisJobs::next(TimeMs now, Batch& staged) {
    schedule(now);
    if (in_flight_) return std::nullopt;
    if (now - last_sent_ < min_gap()) return std::nullopt;
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if (it->not_before > now) continue;
        Task t = *it;
        queue_.erase(it);
        // A floor learned since this task was planned makes it pointless, or shorter.
        if (!t.usage_point.empty()) {
            const auto& p = progress(t);
            if (p.floor && t.window.to <= *p.floor) return next(now, staged);
            if (p.floor) t.window.from = std::max(t.window.from, *p.floor);
        }
        EnedisCall call = make_call(t, now, staged);
        in_flight_ = std::make_pair(call.key, t);
        last_sent_ = now;
        return call;
    }
    return std::nullopt;
}

EnedisCall EnedisJobs::make_call(const Task& t, TimeMs now, Batch& staged) {
    const Job* job = find_job(t.job);
    EnedisCall call;
    call.key = fmt::format("{}-{}", key_prefix_, ++counter_);
    call.job = t.job;
    JobRunRecord run;
    run.run_key = call.key;
    run.at = now;
    run.job = t.job;
    if (job && job->options->authorize) {
        const auto& a = *job->options->authorize;
        call.node = "get_authorize_uri";
        call.fields.push_back({"name", {a.service_name}, false});
        call.fields.push_back({"service", a.service, true});
        call.fields.push_back({"processings", a.processings, true});
        // The proxy's current code reads `description` (HTML) and fails without it.
        std::string description;
        if (a.description) {
            description = *a.description;
        } else {
            for (const auto& line : a.service) description += "<p>" + html_escape(line) + "</p>";
            if (!a.processings.empty()) {
                description += "<p>";
                for (std::size_t i = 0; i < a.processings.size(); ++i)
                    description += (i ? "<br/>" : "") + html_escape(a.processings[i]);
                description += "</p>";
            }
        }
        call.fields.push_back({"description", {description}, true});
        if (a.logo_url) call.fields.push_back({"logo_url", {*a.logo_url}, false});
    } else {
        const auto& f = *job->options->fetch;
        QuoaliseRequest req;
        req.command =
            f.kind == FetchKind::load_curve ? QuoaliseCommand::load_curve : QuoaliseCommand::daily;
        req.usage_point = t.usage_point;
        req.direction = t.direction;
        req.start_date = ymd(t.window.from);
        req.end_date = ymd(t.window.to);
        call.node = std::string(to_string(req.command));
        call.fields.push_back({"usage_point_id", {t.usage_point}, false});
        call.fields.push_back({"direction", {t.direction}, false});
        call.fields.push_back({"start_date", {format_day(t.window.from)}, false});
        call.fields.push_back({"end_date", {format_day(t.window.to)}, false});
        call.data = req;
        run.usage_point = t.usage_point;
        run.direction = t.direction;
        run.window_start = format_day(t.window.from);
        run.window_end = format_day(t.window.to);
    }
    run.command = call.node;
    Envelope env = record_only_envelope(source_, now);
    env.job_runs.push_back(std::move(run));
    staged.push_back(std::move(env));
    return call;
}

void EnedisJobs::finish(Batch& staged, TimeMs now, const std::string& key, std::string outcome,
                        std::int64_t records, const EnedisFailure* f, std::string error) {
    JobRunRecord run;
    run.step = JobRunRecord::Step::finished;
    run.run_key = key;
    run.at = now;
    run.outcome = std::move(outcome);
    run.records = records;
    run.error = std::move(error);
    if (f) {
        if (run.error.empty()) run.error = f->text.empty() ? f->condition : printable(f->text);
        run.upstream_issuer = f->issuer;
        run.upstream_code = f->code;
    }
    Envelope env = record_only_envelope(source_, now);
    env.job_runs.push_back(std::move(run));
    staged.push_back(std::move(env));
}

void EnedisJobs::on_result(const std::string& key, std::string_view iq_xml, TimeMs now,
                           Batch& staged) {
    if (!in_flight_ || in_flight_->first != key) return;  // late: its failure was recorded
    Task t = std::move(in_flight_->second);
    in_flight_.reset();
    const Job* job = find_job(t.job);
    if (!job) return;

    if (job->options->authorize) {
        pugi::xml_document doc;
        std::string uri;
        if (doc.load_buffer(iq_xml.data(), iq_xml.size()))
            for (pugi::xml_node field = find_local(doc, "field"); field;
                 field = field.next_sibling())
                if (std::string_view(field.attribute("var").value()) == "authorize_uri")
                    uri = find_local(field, "value").text().get();
        if (uri.empty()) {
            finish(staged, now, key, "error", 0, nullptr,
                   "the proxy's answer has no authorize_uri field");
            return;
        }
        Envelope env = record_only_envelope(source_, now);
        env.authorize_uris.push_back(
            AuthorizeUriRecord{t.job, authorize_uri_with(uri, *job->options->authorize), now});
        staged.push_back(std::move(env));
        state_.authorized_jobs.insert(t.job);
        finish(staged, now, key, "ok", 0);
        return;
    }

    // The response, decoded like any message, stored with its request as topic.
    QuoaliseRequest req;
    req.command = job->options->fetch->kind == FetchKind::load_curve ? QuoaliseCommand::load_curve
                                                                     : QuoaliseCommand::daily;
    req.usage_point = t.usage_point;
    req.direction = t.direction;
    req.start_date = ymd(t.window.from);
    req.end_date = ymd(t.window.to);
    Envelope env;
    env.raw.source = source_;
    env.raw.topic = quoalise_request_topic(req);
    env.raw.payload = std::string(iq_xml);
    env.raw.content_type = "application/xml";
    env.raw.received_at = now;
    env.result = decode_quoalise(iq_xml, req, options_.stamping);
    if (env.result.reject) {
        const std::string why = env.result.reject->reason();
        staged.push_back(std::move(env));
        finish(staged, now, key, "error", 0, nullptr, why);
        return;
    }
    const auto n = static_cast<std::int64_t>(env.result.readings.size());
    served_.insert(t.usage_point);
    progress(t).done.add(t.window);
    save_progress(t, now, env);
    staged.push_back(std::move(env));
    finish(staged, now, key, "ok", n);
}

void EnedisJobs::on_failure(const std::string& key, const EnedisFailure& f, TimeMs now,
                            Batch& staged) {
    if (!in_flight_ || in_flight_->first != key) return;
    Task t = std::move(in_flight_->second);
    in_flight_.reset();
    using K = EnedisFailure::Kind;
    if (is_no_older_data(f) && !t.usage_point.empty()) {
        finish(staged, now, key, "no_older_data", 0, &f);
        if (t.window.days() > 1) {
            // Bisect: the meter started somewhere in this window.
            const Day mid = t.window.from + date::days{(t.window.days() + 1) / 2};
            queue_.push_front(
                Task{t.job, t.usage_point, t.direction, {t.window.from, mid}, 0, now});
            queue_.push_front(Task{t.job, t.usage_point, t.direction, {mid, t.window.to}, 0, now});
            return;
        }
        auto& p = progress(t);
        p.floor = std::max(p.floor.value_or(t.window.to), t.window.to);
        Envelope env = record_only_envelope(source_, now);
        save_progress(t, now, env);
        staged.push_back(std::move(env));
        return;
    }
    if (is_no_consent(f) && !t.usage_point.empty()) {
        finish(staged, now, key, "no_consent", 0, &f);
        refuse(t, now, staged);
        return;
    }
    const char* outcome = f.kind == K::timeout        ? "timeout"
                          : f.kind == K::disconnected ? "disconnected"
                                                      : "error";
    finish(staged, now, key, outcome, 0, &f);
    if (++t.attempt >= kMaxAttempts) return;  // the next scheduled run plans it again
    TimeMs delay = kFirstRetryMs;
    for (int i = 1; i < t.attempt && delay < kMaxRetryMs; ++i) delay *= 2;
    t.not_before = now + std::min(delay, kMaxRetryMs);
    queue_.push_back(std::move(t));
}

void EnedisJobs::refuse(const Task& t, TimeMs now, Batch& staged) {
    // The upstream will say the same of this job's other windows.
    std::erase_if(queue_, [&](const Task& q) {
        return q.job == t.job && q.usage_point == t.usage_point && q.direction == t.direction;
    });
    auto consent = state_.consents.find(t.usage_point);
    if (consent == state_.consents.end() || (consent->second && *consent->second <= now)) return;
    auto& refused = refused_[t.usage_point];
    refused.insert(t.direction);
    if (served_.count(t.usage_point)) return;
    // Revoked only when nothing asked of it is allowed: a consumption point
    // refuses production without its consent being gone.
    for (const Job& j : jobs_)
        if (j.options->fetch && j.options->fetch->granted)
            for (const auto& dir : j.options->fetch->directions)
                if (!refused.count(dir)) return;
    consent->second = now;
    std::erase_if(queue_, [&](const Task& q) {
        const Job* j = find_job(q.job);
        return q.usage_point == t.usage_point && j && j->options->fetch &&
               j->options->fetch->granted;
    });
    Envelope env = record_only_envelope(source_, now);
    env.raw.topic = "consent";
    env.consents.push_back(ConsentUpdate{t.usage_point, "revoked", "", now, std::nullopt, now});
    staged.push_back(std::move(env));
}

void EnedisJobs::on_consent(std::string_view message_xml, TimeMs now, Batch& staged) {
    pugi::xml_document doc;
    if (!doc.load_buffer(message_xml.data(), message_xml.size())) return;
    pugi::xml_node x;
    for (pugi::xml_node n = find_local(doc, "x"); n; n = n.next_sibling())
        if (std::string_view(n.attribute("xmlns").value()) == kAuthorizeNamespace) x = n;
    if (!x) return;
    std::vector<std::string> ups;
    std::string state;
    for (pugi::xml_node n : x.children()) {
        const std::string_view name = n.name();
        if (name == "usage-point") ups.emplace_back(n.text().get());
        if (name == "state") state = n.text().get();
    }
    // The consent comes from the authorize job (when there is one).
    const Job* authorize = nullptr;
    for (const Job& j : jobs_)
        if (j.options->authorize) authorize = &j;
    std::optional<TimeMs> expires;
    if (authorize)
        if (auto d = parse_duration(authorize->options->authorize->duration))
            expires = now + d->count();
    Envelope env = record_only_envelope(source_, now);
    env.raw.topic = "consent";
    for (const auto& up : ups) {
        env.consents.push_back(
            ConsentUpdate{up, state, authorize ? authorize->config.name : "", now, now, expires});
        state_.consents[up] = expires;
        refused_.erase(up);
        served_.erase(up);
    }
    staged.push_back(std::move(env));
    // Fetch jobs on granted usage points start on them at once.
    for (Job& job : jobs_)
        if (job.options->fetch && job.options->fetch->granted) plan(job, ups, now, true);
}

}  // namespace mb
