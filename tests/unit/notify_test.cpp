// notification(): what reaches systemd's notify socket, whatever a peer wrote
// into the text it carries.
#include "daemon/notify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// systemd's reading: one field per line.
std::vector<std::string> lines(const std::string& message) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto nl = message.find('\n', start);
        out.push_back(message.substr(start, nl == std::string::npos ? nl : nl - start));
        if (nl == std::string::npos) return out;
        start = nl + 1;
    }
}

TEST(Notification, JoinsTheFieldsOnePerLine) {
    EXPECT_EQ(notification({{"READY", "1"}}), "READY=1");
    EXPECT_EQ(notification({{"READY", "1"}, {"STATUS", "3 messages; connectors 1/1 running"}}),
              "READY=1\nSTATUS=3 messages; connectors 1/1 running");
    // Text as it is: UTF-8, quotes, '=' and ';'.
    EXPECT_EQ(notification({{"STATUS", "enedis: « refusé » a=b; c"}}),
              "STATUS=enedis: « refusé » a=b; c");
}

TEST(Notification, APeersTextCannotAddFields) {
    // A stream error's <text> quoted into a connector's last error.
    const std::string detail =
        "1 messages; enedis reconnecting: stream error: conflict (bye\nWATCHDOG=trigger\n"
        "STATUS=all good\r\nREADY=1\x1b[2J\tend)";
    const std::string m = notification({{"STATUS", detail}});
    EXPECT_THAT(lines(m), ElementsAre("STATUS=1 messages; enedis reconnecting: stream error: "
                                      "conflict (bye\\u000aWATCHDOG=trigger\\u000aSTATUS=all "
                                      "good\\u000d\\u000aREADY=1\\u001b[2J\\u0009end)"));
    // Every control character, DEL included.
    std::string all;
    for (int c = 0; c < 0x20; ++c) all += static_cast<char>(c);
    all += '\x7f';
    const std::string esc = notification({{"STATUS", all}});
    for (const char c : esc) EXPECT_FALSE(c >= 0 && (c < 0x20 || c == 0x7f)) << int{c};
    EXPECT_THAT(esc, HasSubstr("\\u0000\\u0001"));
    EXPECT_THAT(esc, HasSubstr("\\u007f"));
}

TEST(Notification, TextThatIsNotUtf8IsEscaped) {
    EXPECT_EQ(notification({{"STATUS", "bad \xff\xfe byte"}}), "STATUS=bad \\xff\\xfe byte");
}

TEST(Notification, StaysUnderSystemdsDatagramLimit) {
    // systemd drops a notification of 4096 bytes or more whole.
    const std::string long_text(10000, 'x');
    const std::string m = notification({{"READY", "1"}, {"STATUS", long_text}});
    EXPECT_LE(m.size(), kMaxNotification);
    EXPECT_GT(m.size(), kMaxNotification - 16);
    EXPECT_TRUE(m.starts_with("READY=1\nSTATUS=xxx"));
    EXPECT_TRUE(m.ends_with("xxx...")) << m.substr(m.size() - 10);
    // Escapes grow the text up to six times: still under the limit.
    const std::string newlines(5000, '\n');
    const std::string e = notification({{"STATUS", newlines}});
    EXPECT_LE(e.size(), kMaxNotification);
    EXPECT_EQ(lines(e).size(), 1u);
    // A short line is left whole.
    EXPECT_EQ(notification({{"STATUS", std::string(3000, 'y')}}),
              "STATUS=" + std::string(3000, 'y'));
}

}  // namespace
}  // namespace mb
