// EnedisJobs without a network: calls out, answers in, envelopes checked.
#include "connectors/enedis/enedis_jobs.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "normalize/time_format.h"
#include "tests/support/fixture.h"
#include "tests/support/quoalise_answers.h"

namespace mb {
namespace {

constexpr const char* kPrm = "11453290002823";
constexpr const char* kPrm2 = "22516914714270";

TimeMs at(const char* iso) {
    return *parse_iso8601(iso);
}
Day day_of(const char* s) {
    return *parse_day(s);
}

JobConfig fetch_job(const std::string& name, FetchKind kind, std::vector<std::string> ups,
                    std::int64_t backfill, const char* schedule = "daily 08:30",
                    std::vector<std::string> directions = {"consumption"}) {
    auto o = std::make_shared<EnedisJobOptions>();
    EnedisFetchJob f;
    f.kind = kind;
    f.granted = ups.empty();
    f.usage_points = std::move(ups);
    f.directions = std::move(directions);
    f.backfill_days = backfill;
    o->fetch = f;
    std::string why;
    o->schedule = *parse_schedule(schedule, why);
    JobConfig j;
    j.name = name;
    j.connector = "enedis";
    j.command = kind == FetchKind::daily ? "get_daily" : "get_load_curve";
    j.options = o;
    return j;
}

JobConfig authorize_job() {
    auto o = std::make_shared<EnedisJobOptions>();
    EnedisAuthorizeJob a;
    a.service_name = "Elec Expert Demo";
    a.service = {"line 1", "line <2>"};
    a.processings = {"Analyse", "Graphiques"};
    a.duration = "P1Y";
    a.test_client = 3;
    a.redirect_uri = "http://perdu.com?user=plop";
    o->authorize = a;
    JobConfig j;
    j.name = "consent";
    j.connector = "enedis";
    j.command = "get_authorize_uri";
    j.options = o;
    return j;
}

// A daily answer of the proxy for [from, to), as the iq it arrives in.
std::string daily_answer(const std::string& prm, Day from, Day to) {
    return R"(<iq type="result" id="x"><command xmlns="http://jabber.org/protocol/commands" node="get_daily" status="completed">)" +
           test::daily_quoalise(prm, from, to) + "</command></iq>";
}

const FormField* field(const EnedisCall& c, const std::string& var) {
    for (const auto& f : c.fields)
        if (f.var == var) return &f;
    return nullptr;
}

std::size_t readings(const Batch& b) {
    std::size_t n = 0;
    for (const auto& e : b) n += e.result.readings.size();
    return n;
}

const JobRunRecord* finished(const Batch& b) {
    for (const auto& e : b)
        for (const auto& r : e.job_runs)
            if (r.step == JobRunRecord::Step::finished) return &r;
    return nullptr;
}

TEST(EnedisJobs, ADailyBackfillIsOneCallAndItsDaysAreDone) {
    const TimeMs now = at("2024-05-20T10:00:00Z");
    EnedisJobs jobs("enedis", EnedisOptions{}, {fetch_job("daily", FetchKind::daily, {kPrm}, 20)},
                    {}, now);
    Batch staged;
    auto call = jobs.next(now, staged);
    ASSERT_TRUE(call);
    EXPECT_EQ(call->node, "get_daily");
    EXPECT_EQ(field(*call, "usage_point_id")->values[0], kPrm);
    EXPECT_EQ(field(*call, "start_date")->values[0], "2024-04-30");
    EXPECT_EQ(field(*call, "end_date")->values[0], "2024-05-20");
    ASSERT_EQ(staged.size(), 1u);
    EXPECT_EQ(staged[0].job_runs.at(0).window_start, "2024-04-30");
    EXPECT_FALSE(jobs.next(now + 5000, staged));  // one call in flight at a time

    staged.clear();
    jobs.on_result(call->key, daily_answer(kPrm, day_of("2024-04-30"), day_of("2024-05-20")),
                   now + 500, staged);
    EXPECT_EQ(readings(staged), 20u);
    ASSERT_TRUE(finished(staged));
    EXPECT_EQ(finished(staged)->outcome, "ok");
    EXPECT_EQ(finished(staged)->records, 20);
    bool saved = false;
    for (const auto& e : staged)
        for (const auto& p : e.progress) {
            EXPECT_EQ(p.done, "2024-04-30/2024-05-20");
            saved = true;
        }
    EXPECT_TRUE(saved);
    EXPECT_EQ(staged.at(0).raw.topic, "get_daily 11453290002823 consumption 2024-04-30 2024-05-20");
    EXPECT_FALSE(jobs.next(now + 5000, staged));  // nothing missing
    // The next day, after publication: only that day.
    staged.clear();
    call = jobs.next(at("2024-05-21T06:31:00Z"), staged);
    ASSERT_TRUE(call);
    EXPECT_EQ(field(*call, "start_date")->values[0], "2024-05-20");
    EXPECT_EQ(field(*call, "end_date")->values[0], "2024-05-21");
}

TEST(EnedisJobs, CallsRespectTheRateLimit) {
    const TimeMs now = at("2024-05-20T10:00:00Z");
    EnedisJobs jobs("enedis", EnedisOptions{},
                    {fetch_job("daily", FetchKind::daily, {kPrm, kPrm2}, 3)}, {}, now);
    Batch staged;
    auto first = jobs.next(now, staged);
    ASSERT_TRUE(first);
    jobs.on_result(first->key, daily_answer(kPrm, day_of("2024-05-17"), day_of("2024-05-20")),
                   now + 100, staged);
    EXPECT_FALSE(jobs.next(now + 900, staged));
    // Whole milliseconds, truncated: 1000 on this clock may be 999.1 real ones.
    EXPECT_EQ(jobs.next_wakeup(now + 900), now + 1001);
    EXPECT_FALSE(jobs.next(now + 1000, staged));
    auto second = jobs.next(now + 1001, staged);
    ASSERT_TRUE(second);
    EXPECT_EQ(field(*second, "usage_point_id")->values[0], kPrm2);
}

TEST(EnedisJobs, NoOlderDataIsBisectedToTheActivationDayAndEndsTheBackfill) {
    const TimeMs t0 = at("2024-05-20T10:00:00Z");
    const Day activation = day_of("2024-03-11");
    EnedisJobs jobs("enedis", EnedisOptions{}, {fetch_job("daily", FetchKind::daily, {kPrm}, 365)},
                    {}, t0);
    TimeMs now = t0;
    Batch staged;
    int calls = 0;
    std::set<Day> stored;
    while (auto call = jobs.next(now, staged)) {
        ++calls;
        const Day from = *parse_day(field(*call, "start_date")->values[0]);
        const Day to = *parse_day(field(*call, "end_date")->values[0]);
        staged.clear();
        if (from < activation) {
            EnedisFailure f;
            f.text = "The requested period cannot be anterior to the meter's last activation date";
            f.issuer = "enedis-data-connect";
            f.code = "ADAM-ERR0123";
            jobs.on_failure(call->key, f, now, staged);
            ASSERT_TRUE(finished(staged));
            EXPECT_EQ(finished(staged)->outcome, "no_older_data");
            EXPECT_EQ(finished(staged)->upstream_code, "ADAM-ERR0123");
        } else {
            jobs.on_result(call->key, daily_answer(kPrm, from, to), now, staged);
            for (Day d = from; d < to; d += date::days{1}) EXPECT_TRUE(stored.insert(d).second);
        }
        now = jobs.next_wakeup(now);  // the next call the rate limit allows
        ASSERT_LT(calls, 40);
    }
    // Every day from the activation to yesterday, each once; about log2(365) calls.
    EXPECT_EQ(stored.size(), static_cast<std::size_t>((day_of("2024-05-20") - activation).count()));
    EXPECT_EQ(*stored.begin(), activation);
    EXPECT_LE(calls, 12);
    // The floor is kept: a later run asks for nothing older.
    EXPECT_FALSE(jobs.next(now + 3600000, staged));
}

TEST(EnedisJobs, OtherFailuresAreRetriedWithBackoff) {
    const TimeMs now = at("2024-05-20T10:00:00Z");
    EnedisJobs jobs("enedis", EnedisOptions{}, {fetch_job("daily", FetchKind::daily, {kPrm}, 2)},
                    {}, now);
    Batch staged;
    auto call = jobs.next(now, staged);
    ASSERT_TRUE(call);
    EnedisFailure f;
    f.kind = EnedisFailure::Kind::timeout;
    staged.clear();
    jobs.on_failure(call->key, f, now + 30000, staged);
    EXPECT_EQ(finished(staged)->outcome, "timeout");
    EXPECT_FALSE(jobs.next(now + 59000, staged));
    auto again = jobs.next(now + 60000, staged);
    ASSERT_TRUE(again);
    EXPECT_EQ(field(*again, "start_date")->values[0], "2024-05-18");
    // A late answer to the first call is ignored (its failure is recorded).
    staged.clear();
    jobs.on_result(call->key, daily_answer(kPrm, day_of("2024-05-18"), day_of("2024-05-20")),
                   now + 61000, staged);
    EXPECT_TRUE(staged.empty());
}

TEST(EnedisJobs, AuthorizeSendsBothFormsAndStoresTheUriWithItsParameters) {
    const TimeMs now = at("2024-05-20T10:00:00Z");
    EnedisJobs jobs("enedis", EnedisOptions{}, {authorize_job()}, {}, now);
    Batch staged;
    auto call = jobs.next(now, staged);
    ASSERT_TRUE(call);
    EXPECT_EQ(call->node, "get_authorize_uri");
    EXPECT_EQ(field(*call, "name")->values, std::vector<std::string>{"Elec Expert Demo"});
    EXPECT_TRUE(field(*call, "service")->multi);
    EXPECT_EQ(field(*call, "processings")->values.size(), 2u);
    EXPECT_EQ(field(*call, "description")->values[0],
              "<p>line 1</p><p>line &lt;2&gt;</p><p>Analyse<br/>Graphiques</p>");
    staged.clear();
    jobs.on_result(call->key, test::read_fixture("enedis", "doc_authorize_response.xml"), now,
                   staged);
    ASSERT_FALSE(staged.empty());
    ASSERT_EQ(staged[0].authorize_uris.size(), 1u);
    EXPECT_EQ(staged[0].authorize_uris[0].uri,
              "https://srv5.breizh-sen2.eu/dataconnect-proxy/authorize?id=ad35a140&duration=P1Y&"
              "redirect_uri=http%3A%2F%2Fperdu.com%3Fuser%3Dplop&test_client=3");
    EXPECT_FALSE(jobs.next(now + 10000, staged));  // once
    EXPECT_TRUE(jobs.run_now("consent", now + 10000));
    EXPECT_TRUE(jobs.next(now + 10000, staged));
}

TEST(EnedisJobs, AConsentIsRecordedAndStartsTheJobsOnGrantedUsagePoints) {
    const TimeMs now = at("2024-05-20T10:00:00Z");
    EnedisJobs jobs("enedis", EnedisOptions{},
                    {authorize_job(), fetch_job("daily", FetchKind::daily, {}, 5)}, {}, now);
    Batch staged;
    auto call = jobs.next(now, staged);  // the authorize call; no usage point granted yet
    ASSERT_TRUE(call);
    EXPECT_EQ(call->node, "get_authorize_uri");
    jobs.on_result(call->key, test::read_fixture("enedis", "doc_authorize_response.xml"), now,
                   staged);
    staged.clear();
    jobs.on_consent(test::read_fixture("enedis", "doc_consent_message.xml"), now + 2000, staged);
    ASSERT_EQ(staged.size(), 1u);
    ASSERT_EQ(staged[0].consents.size(), 1u);
    const ConsentUpdate& c = staged[0].consents[0];
    EXPECT_EQ(c.usage_point, "22516914714270");
    EXPECT_EQ(c.state, "ton_etat");
    EXPECT_EQ(c.job, "consent");
    EXPECT_EQ(c.granted_at, now + 2000);
    EXPECT_EQ(c.expires_at, now + 2000 + 365LL * 86400000);
    call = jobs.next(now + 2000, staged);
    ASSERT_TRUE(call);
    EXPECT_EQ(call->node, "get_daily");
    EXPECT_EQ(field(*call, "usage_point_id")->values[0], "22516914714270");
}

}  // namespace
}  // namespace mb

namespace mb {
namespace {

TEST(EnedisJobs, AtStartWhatAKilledRunLeftMissingIsFetchedNotAtTheNextSchedule) {
    const TimeMs now = at("2024-05-20T10:00:00Z");
    EnedisState state;
    state.last_runs["daily"] = now - 60000;  // it ran a minute ago, then the daemon died
    state.progress[{"daily", kPrm, "consumption"}].done.add(
        {day_of("2024-05-10"), day_of("2024-05-20")});
    EnedisJobs jobs("enedis", EnedisOptions{},
                    {fetch_job("daily", FetchKind::daily, {kPrm}, 20), authorize_job()}, state,
                    now);
    Batch staged;
    auto call = jobs.next(now, staged);
    ASSERT_TRUE(call);
    EXPECT_EQ(field(*call, "start_date")->values[0], "2024-04-30");
    EXPECT_EQ(field(*call, "end_date")->values[0], "2024-05-10");
}

}  // namespace
}  // namespace mb

namespace mb {
namespace {

EnedisFailure no_consent() {
    EnedisFailure f;
    f.text = "No consent can be found for this customer and this usage point.";
    f.issuer = "enedis-data-connect";
    f.code = "ADAM-DC-0008";
    return f;
}

std::vector<ConsentUpdate> consents(const Batch& b) {
    std::vector<ConsentUpdate> out;
    for (const auto& e : b) out.insert(out.end(), e.consents.begin(), e.consents.end());
    return out;
}

TEST(EnedisJobs, NoConsentEndsADirectionAndRevokesTheGrantOnceEveryDirectionIsRefused) {
    const TimeMs now = at("2024-05-20T10:00:00Z");
    EnedisJobs jobs("enedis", EnedisOptions{},
                    {fetch_job("daily", FetchKind::daily, {}, 20, "daily 08:30",
                               {"consumption", "production"})},
                    {}, now);
    Batch staged;
    jobs.on_consent(test::read_fixture("enedis", "doc_consent_message.xml"), now, staged);
    staged.clear();
    auto call = jobs.next(now, staged);
    ASSERT_TRUE(call);
    EXPECT_EQ(field(*call, "direction")->values[0], "consumption");
    jobs.on_failure(call->key, no_consent(), now + 100, staged);
    ASSERT_TRUE(finished(staged));
    EXPECT_EQ(finished(staged)->outcome, "no_consent");
    EXPECT_EQ(finished(staged)->upstream_code, "ADAM-DC-0008");
    EXPECT_TRUE(consents(staged).empty());  // production may still be allowed

    staged.clear();
    call = jobs.next(now + 1100, staged);
    ASSERT_TRUE(call);
    EXPECT_EQ(field(*call, "direction")->values[0], "production");
    jobs.on_failure(call->key, no_consent(), now + 1200, staged);
    const auto revoked = consents(staged);
    ASSERT_EQ(revoked.size(), 1u);
    EXPECT_EQ(revoked[0].usage_point, kPrm2);
    EXPECT_EQ(revoked[0].state, "revoked");
    EXPECT_EQ(revoked[0].expires_at, now + 1200);
    // Not retried, and not asked again at the next schedule.
    EXPECT_FALSE(jobs.next(now + 120'000, staged));
    EXPECT_FALSE(jobs.next(at("2024-05-21T10:00:00Z"), staged));
    // A new consent brings it back.
    jobs.on_consent(test::read_fixture("enedis", "doc_consent_message.xml"),
                    at("2024-05-21T10:00:00Z"), staged);
    EXPECT_TRUE(jobs.next(at("2024-05-21T10:00:01Z"), staged));
}

TEST(EnedisJobs, AConsumptionPointRefusingProductionKeepsItsConsent) {
    const TimeMs now = at("2024-05-20T10:00:00Z");
    EnedisJobs jobs("enedis", EnedisOptions{},
                    {fetch_job("daily", FetchKind::daily, {}, 20, "daily 08:30",
                               {"consumption", "production"})},
                    {}, now);
    Batch staged;
    jobs.on_consent(test::read_fixture("enedis", "doc_consent_message.xml"), now, staged);
    auto call = jobs.next(now, staged);
    ASSERT_TRUE(call);
    jobs.on_result(call->key, daily_answer(kPrm2, day_of("2024-04-30"), day_of("2024-05-20")),
                   now + 100, staged);
    staged.clear();
    call = jobs.next(now + 1100, staged);
    ASSERT_TRUE(call);
    EXPECT_EQ(field(*call, "direction")->values[0], "production");
    jobs.on_failure(call->key, no_consent(), now + 1200, staged);
    EXPECT_EQ(finished(staged)->outcome, "no_consent");
    EXPECT_TRUE(consents(staged).empty());
    EXPECT_FALSE(jobs.next(now + 120'000, staged));
    // The next day: consumption goes on (and production is asked once more).
    std::set<std::string> asked;
    for (TimeMs t = at("2024-05-21T10:00:00Z"); auto c = jobs.next(t, staged); t += 2000) {
        asked.insert(field(*c, "direction")->values[0]);
        jobs.on_failure(c->key, no_consent(), t + 100, staged);
    }
    EXPECT_EQ(asked, (std::set<std::string>{"consumption", "production"}));
}

TEST(EnedisJobs, RunNowSendsAPendingRetryAtOnce) {
    const TimeMs now = at("2024-05-20T10:00:00Z");
    EnedisJobs jobs("enedis", EnedisOptions{}, {fetch_job("daily", FetchKind::daily, {kPrm}, 5)},
                    {}, now);
    Batch staged;
    auto call = jobs.next(now, staged);
    ASSERT_TRUE(call);
    EnedisFailure timeout;
    timeout.kind = EnedisFailure::Kind::timeout;
    timeout.text = "no answer within 30 s";
    jobs.on_failure(call->key, timeout, now + 30'000, staged);
    EXPECT_EQ(finished(staged)->outcome, "timeout");
    EXPECT_FALSE(jobs.next(now + 31'000, staged));  // the retry waits 30 s
    EXPECT_TRUE(jobs.run_now("daily", now + 31'000));
    auto again = jobs.next(now + 31'000, staged);
    ASSERT_TRUE(again);
    EXPECT_EQ(field(*again, "start_date")->values[0], field(*call, "start_date")->values[0]);
}

}  // namespace
}  // namespace mb
