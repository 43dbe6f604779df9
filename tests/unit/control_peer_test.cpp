// Who may use the control socket (control_server.h): the policy alone, for
// any uid and group, without needing those users on the machine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/control/control_server.h"

namespace mb {
namespace {

using ::testing::HasSubstr;

const PeerPolicy kDaemon{/*uid=*/998, /*gids=*/{997, 120}};

PeerCredentials peer(uid_t uid, gid_t gid, std::vector<gid_t> groups = {}) {
    return PeerCredentials{4242, uid, gid, std::move(groups)};
}

TEST(ControlPeer, RootAndTheDaemonsUserMayConnect) {
    EXPECT_EQ(peer_refusal(peer(0, 0), kDaemon), "");
    EXPECT_EQ(peer_refusal(peer(0, 5555), kDaemon), "");
    EXPECT_EQ(peer_refusal(peer(998, 5555), kDaemon), "");
}

TEST(ControlPeer, MembersOfTheDaemonsGroupMayConnect) {
    EXPECT_EQ(peer_refusal(peer(1000, 997), kDaemon), "");              // primary group
    EXPECT_EQ(peer_refusal(peer(1000, 1000, {27, 997}), kDaemon), "");  // supplementary
    EXPECT_EQ(peer_refusal(peer(1000, 1000, {120}), kDaemon), "");      // the socket file's group
}

TEST(ControlPeer, AnyoneElseIsRefusedWithWhoAndWhy) {
    const auto why = peer_refusal(peer(1000, 1000, {27, 100}), kDaemon);
    EXPECT_EQ(why,
              "uid 1000 (pid 4242) may not use the control socket: only root, the daemon's user "
              "(uid 998) and members of its group (gid 997, 120) may");
    EXPECT_THAT(peer_refusal(peer(65534, 65534), kDaemon), HasSubstr("uid 65534"));
    // A process that shares neither uid nor group, also with no supplementary group at all.
    EXPECT_NE(peer_refusal(peer(1, 1), PeerPolicy{998, {}}), "");
}

}  // namespace
}  // namespace mb
