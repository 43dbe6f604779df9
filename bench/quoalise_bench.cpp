// mb_bench_quoalise: quoalise decode + normalize throughput (records/s)
// against a plain pugixml parse of the same document.
//
//   mb_bench_quoalise [--days 7] [--rounds 7] [--min-seconds 0.2]
//
// The document is what the DataConnect proxy answers to get_load_curve:
// nested meta, one <senml> per half-hour, end-stamped from Paris midnight,
// W values (7 days = the most Enedis returns per load-curve call; --days 365
// gives a year). Three ways over the same bytes, each timed in rounds that
// alternate, the median round reported:
//   parse   pugi::xml_document::load_buffer with the decoder's flags
//           (parse_default | parse_doctype): the plain parse, the reference;
//   walk    parse + visit every <senml> and convert t and v with as_double():
//           what a hand-written reader would do, without any validation;
//   floor   parse + visit every <senml>, std::from_chars of t and v, and one
//           canonical mb::Reading per record (meter, quantity and unit
//           strings): the least any decoder producing readings must do;
//   decode  mb::decode_quoalise(): parse, validate meta, request, grid,
//           window, units, exact decimal conversion, canonical readings.
//
// Prints one JSON object: records, bytes and records/s of each.
#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "normalize/enedis/quoalise_decoder.h"

namespace {

using mb::bench::mono_ns;

constexpr const char* kPrm = "22516914714270";

std::string make_document(std::int64_t bt, std::int64_t records) {
    std::string x;
    x.reserve(static_cast<std::size_t>(records) * 40 + 1024);
    x += R"(<quoalise xmlns="urn:quoalise:0">
  <data>
    <meta>
      <device type="electricity-meter">
        <identifier authority="enedis" type="prm" value="22516914714270" />
      </device>
      <measurement>
        <physical quantity="power" type="electrical" unit="W" />
        <business graph="load-profile" direction="consumption" />
        <aggregate type="average" />
        <sampling interval="1800" />
      </measurement>
    </meta>
    <sensml xmlns="urn:ietf:params:xml:ns:senml">
)";
    char buf[200];
    for (std::int64_t i = 0; i < records; ++i) {
        const long long t = (i + 1) * 1800;
        const long long v = 100 + (i * 7) % 5000;
        if (i == 0)
            std::snprintf(buf, sizeof buf,
                          "      <senml bn=\"urn:dev:prm:%s_consumption_load\" bt=\"%lld\" "
                          "t=\"%lld\" v=\"%lld\" bu=\"W\" />\n",
                          kPrm, static_cast<long long>(bt), t, v);
        else
            std::snprintf(buf, sizeof buf, "      <senml t=\"%lld\" v=\"%lld\" />\n", t, v);
        x += buf;
    }
    x += "    </sensml>\n  </data>\n</quoalise>\n";
    return x;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

int run(const mb::bench::Args& args) {
    const int days = static_cast<int>(args.num("days", 7));
    const int rounds = static_cast<int>(args.num("rounds", 7));
    const double min_seconds = std::stod(args.str("min-seconds", "0.2"));

    // 2021-01-04 (Monday) Paris midnight = 2021-01-03T23:00:00Z; no DST change for weeks,
    // and over a whole year the half-hours still number 48 a day.
    using namespace date;
    const year_month_day start = year{2021} / January / day{4};
    const year_month_day end{sys_days{start} + date::days{days}};
    const std::int64_t bt = 1609714800;
    const std::int64_t records = static_cast<std::int64_t>(days) * 48;
    const std::string doc = make_document(bt, records);
    const mb::QuoaliseRequest req{mb::QuoaliseCommand::load_curve, kPrm, "consumption", start, end};

    {
        const auto r = mb::decode_quoalise(doc, req, mb::StampConvention::auto_detect);
        if (!r.ok())
            throw std::runtime_error("the generated document is rejected: " + r.reject->reason());
        if (static_cast<std::int64_t>(r.readings.size()) != records)
            throw std::runtime_error("decoded " + std::to_string(r.readings.size()) + " readings");
    }

    volatile double sink = 0;
    auto parse = [&] {
        pugi::xml_document d;
        const auto res = d.load_buffer(
            doc.data(), doc.size(), pugi::parse_default | pugi::parse_doctype, pugi::encoding_utf8);
        if (!res) throw std::runtime_error("pugixml");
        sink = sink + static_cast<double>(res.offset);
    };
    auto walk = [&] {
        pugi::xml_document d;
        d.load_buffer(doc.data(), doc.size(), pugi::parse_default | pugi::parse_doctype,
                      pugi::encoding_utf8);
        double acc = 0;
        for (pugi::xml_node s : d.child("quoalise").child("data").child("sensml").children("senml"))
            acc += s.attribute("t").as_double() + s.attribute("v").as_double();
        sink = sink + acc;
    };
    std::vector<mb::Reading> out;
    auto floor = [&] {
        pugi::xml_document d;
        d.load_buffer(doc.data(), doc.size(), pugi::parse_default | pugi::parse_doctype,
                      pugi::encoding_utf8);
        out.clear();
        out.reserve(static_cast<std::size_t>(records));
        for (pugi::xml_node s :
             d.child("quoalise").child("data").child("sensml").children("senml")) {
            double t = 0, v = 0;
            const char* ts = s.attribute("t").value();
            const char* vs = s.attribute("v").value();
            std::from_chars(ts, ts + std::strlen(ts), t);
            std::from_chars(vs, vs + std::strlen(vs), v);
            const auto from = static_cast<mb::TimeMs>(t * 1000) + bt * 1000 - 1'800'000;
            out.push_back(mb::Reading{kPrm, "electricity.power.consumption", "W",
                                      mb::Kind::interval, from, from + 1'800'000, v});
        }
        sink = sink + static_cast<double>(out.size());
    };
    auto decode = [&] {
        const auto r = mb::decode_quoalise(doc, req, mb::StampConvention::auto_detect);
        sink = sink + static_cast<double>(r.readings.size());
    };

    // Iterations per round so that the slowest way takes about min_seconds.
    auto time_n = [](auto& f, std::int64_t n) {
        const std::int64_t a = mono_ns();
        for (std::int64_t i = 0; i < n; ++i) f();
        return static_cast<double>(mono_ns() - a) / 1e9;
    };
    std::int64_t iters = 1;
    while (time_n(decode, iters) < min_seconds) iters *= 2;
    std::vector<double> tp, tw, tf, td;
    for (int r = 0; r < rounds; ++r) {
        tp.push_back(time_n(parse, iters));
        tw.push_back(time_n(walk, iters));
        tf.push_back(time_n(floor, iters));
        td.push_back(time_n(decode, iters));
    }
    const double recs = static_cast<double>(records * iters);
    std::printf(
        "{\"days\": %d, \"records\": %lld, \"bytes\": %zu, \"iterations\": %lld, "
        "\"parse_records_per_s\": %.1f, \"walk_records_per_s\": %.1f, "
        "\"floor_records_per_s\": %.1f, "
        "\"decode_records_per_s\": %.1f, \"parse_mb_per_s\": %.1f}\n",
        days, static_cast<long long>(records), doc.size(), static_cast<long long>(iters),
        recs / median(tp), recs / median(tw), recs / median(tf), recs / median(td),
        static_cast<double>(doc.size()) * static_cast<double>(iters) / median(tp) / 1e6);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(mb::bench::Args(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mb_bench_quoalise: %s\n", e.what());
        return 1;
    }
}
