#include <gtest/gtest.h>

#include "core/admission.hpp"

using huddle::core::Admission;
using huddle::core::AdmissionDecision;
using huddle::core::AdmissionLimits;

namespace {

AdmissionLimits limits(std::uint32_t handshakes, std::uint32_t failed_auths, std::uint32_t per_user,
                       std::uint32_t per_ip) {
    AdmissionLimits out;
    out.handshakes_per_ip_per_minute = handshakes;
    out.failed_auths_per_ip_per_minute = failed_auths;
    out.max_connections_per_user = per_user;
    out.max_connections_per_ip = per_ip;
    return out;
}

// A handshake that fails authentication, as the server reports it.
bool failed_attempt(Admission& admission, std::string_view ip, std::int64_t now_ms) {
    const AdmissionDecision decision = admission.on_handshake(ip, now_ms);
    if (decision.admitted)
        admission.on_failed_auth(ip, now_ms);
    return decision.admitted;
}

}  // namespace

TEST(Admission, DefaultLimitsAreTheDocumentedOnes) {
    const AdmissionLimits defaults;
    EXPECT_EQ(defaults.handshakes_per_ip_per_minute, 10u);
    EXPECT_EQ(defaults.failed_auths_per_ip_per_minute, 10u);
    EXPECT_EQ(defaults.max_connections_per_user, 20u);
    EXPECT_EQ(defaults.max_connections_per_ip, 1000u);
}

TEST(Admission, HandshakeBudgetPerIp) {
    Admission admission(limits(5, 10, 0, 0));
    for (int i = 0; i < 5; ++i) {
        const AdmissionDecision decision = admission.on_handshake("10.0.0.1", 1'000);
        EXPECT_TRUE(decision.admitted) << "handshake " << i;
        EXPECT_TRUE(decision.code.empty());
        EXPECT_EQ(decision.retry_after_ms, 0);
    }
    const AdmissionDecision refused = admission.on_handshake("10.0.0.1", 1'000);
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.code, "RATE_LIMIT_EXCEEDED");
    EXPECT_EQ(refused.message, "too many connection attempts from this address");
    EXPECT_EQ(refused.retry_after_ms, 12'000);  // 5 per minute: one every 12 s
}

TEST(Admission, HandshakeBudgetDoesNotAffectOtherIps) {
    Admission admission(limits(2, 10, 0, 0));
    EXPECT_TRUE(admission.on_handshake("10.0.0.1", 0).admitted);
    EXPECT_TRUE(admission.on_handshake("10.0.0.1", 0).admitted);
    EXPECT_FALSE(admission.on_handshake("10.0.0.1", 0).admitted);
    EXPECT_TRUE(admission.on_handshake("10.0.0.2", 0).admitted);
    EXPECT_TRUE(admission.on_handshake("::1", 0).admitted);
    EXPECT_EQ(admission.tracked_ips(), 3u);
}

TEST(Admission, HandshakeBudgetRefills) {
    Admission admission(limits(5, 10, 0, 0));
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(admission.on_handshake("10.0.0.1", 0).admitted);
    const AdmissionDecision refused = admission.on_handshake("10.0.0.1", 0);
    ASSERT_FALSE(refused.admitted);
    ASSERT_EQ(refused.retry_after_ms, 12'000);
    EXPECT_TRUE(admission.on_handshake("10.0.0.1", 12'000).admitted);
    EXPECT_FALSE(admission.on_handshake("10.0.0.1", 12'000).admitted);
    // A full minute later the whole burst is back.
    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(admission.on_handshake("10.0.0.1", 200'000).admitted) << i;
    EXPECT_FALSE(admission.on_handshake("10.0.0.1", 200'000).admitted);
}

TEST(Admission, UnlimitedHandshakes) {
    Admission admission(limits(0, 10, 0, 0));
    for (int i = 0; i < 10'000; ++i)
        ASSERT_TRUE(admission.on_handshake("10.0.0.1", 0).admitted) << i;
}

TEST(Admission, FailedAuthBudgetBlocksTheIpBeforeTheHandshakeBudget) {
    Admission admission(limits(100, 3, 0, 0));
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(failed_attempt(admission, "10.0.0.1", 0)) << i;
    // 3 of 100 handshakes used, but the failed-auth budget is gone.
    const AdmissionDecision refused = admission.on_handshake("10.0.0.1", 0);
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.code, "RATE_LIMIT_EXCEEDED");
    EXPECT_EQ(refused.message, "too many failed authentications from this address");
    EXPECT_EQ(refused.retry_after_ms, 20'000);  // 3 per minute: one every 20 s
    // Still refused, with a shorter wait, while time passes.
    const AdmissionDecision later = admission.on_handshake("10.0.0.1", 15'000);
    EXPECT_FALSE(later.admitted);
    EXPECT_EQ(later.retry_after_ms, 5'000);
    // Another address is not affected.
    EXPECT_TRUE(admission.on_handshake("10.0.0.2", 0).admitted);
}

TEST(Admission, FewerFailuresThanTheBudgetDoNotBlock) {
    Admission admission(limits(100, 3, 0, 0));
    ASSERT_TRUE(failed_attempt(admission, "10.0.0.1", 0));
    ASSERT_TRUE(failed_attempt(admission, "10.0.0.1", 0));
    EXPECT_TRUE(admission.on_handshake("10.0.0.1", 0).admitted);
}

TEST(Admission, FailedAuthBlockRecoversAfterTime) {
    Admission admission(limits(100, 3, 0, 0));
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(failed_attempt(admission, "10.0.0.1", 0));
    ASSERT_FALSE(admission.on_handshake("10.0.0.1", 0).admitted);
    EXPECT_FALSE(admission.on_handshake("10.0.0.1", 19'999).admitted);
    EXPECT_TRUE(admission.on_handshake("10.0.0.1", 20'000).admitted);
    // The refused handshakes did not spend the one token that came back: one more failure is
    // allowed, and it blocks the address again.
    admission.on_failed_auth("10.0.0.1", 20'000);
    const AdmissionDecision refused = admission.on_handshake("10.0.0.1", 20'000);
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.retry_after_ms, 20'000);
}

TEST(Admission, SuccessfulHandshakesDoNotSpendTheFailedAuthBudget) {
    Admission admission(limits(1000, 2, 0, 0));
    for (int i = 0; i < 50; ++i)
        ASSERT_TRUE(admission.on_handshake("10.0.0.1", 0).admitted);
    ASSERT_TRUE(failed_attempt(admission, "10.0.0.1", 0));
    EXPECT_TRUE(admission.on_handshake("10.0.0.1", 0).admitted);
}

TEST(Admission, ConnectionsPerUser) {
    Admission admission(limits(0, 10, 2, 0));
    EXPECT_TRUE(admission.on_authenticated("10.0.0.1", "alice", 0).admitted);
    EXPECT_TRUE(admission.on_authenticated("10.0.0.2", "alice", 0).admitted);
    const AdmissionDecision refused = admission.on_authenticated("10.0.0.3", "alice", 0);
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.code, "CONNECTION_LIMIT");
    EXPECT_EQ(refused.message, "too many connections for this user");
    EXPECT_EQ(refused.retry_after_ms, 0);
    EXPECT_EQ(admission.connections_of_user("alice"), 2u);
    // Other users are not affected.
    EXPECT_TRUE(admission.on_authenticated("10.0.0.1", "bob", 0).admitted);
    // A close frees a slot.
    admission.on_closed("10.0.0.2", "alice");
    EXPECT_EQ(admission.connections_of_user("alice"), 1u);
    EXPECT_TRUE(admission.on_authenticated("10.0.0.3", "alice", 0).admitted);
    EXPECT_FALSE(admission.on_authenticated("10.0.0.3", "alice", 0).admitted);
}

TEST(Admission, ConnectionsPerIp) {
    Admission admission(limits(0, 10, 0, 3));
    EXPECT_TRUE(admission.on_authenticated("10.0.0.1", "a", 0).admitted);
    EXPECT_TRUE(admission.on_authenticated("10.0.0.1", "b", 0).admitted);
    EXPECT_TRUE(admission.on_authenticated("10.0.0.1", "c", 0).admitted);
    const AdmissionDecision refused = admission.on_authenticated("10.0.0.1", "d", 0);
    EXPECT_FALSE(refused.admitted);
    EXPECT_EQ(refused.code, "CONNECTION_LIMIT");
    EXPECT_EQ(refused.message, "too many connections from this address");
    // The refused connection reserved nothing.
    EXPECT_EQ(admission.connections_of_user("d"), 0u);
    EXPECT_EQ(admission.unique_users(), 3u);
    EXPECT_TRUE(admission.on_authenticated("10.0.0.2", "d", 0).admitted);
    admission.on_closed("10.0.0.1", "b");
    EXPECT_TRUE(admission.on_authenticated("10.0.0.1", "e", 0).admitted);
    EXPECT_FALSE(admission.on_authenticated("10.0.0.1", "f", 0).admitted);
}

TEST(Admission, RefusedByUserLimitReservesNoIpSlot) {
    Admission admission(limits(0, 10, 1, 2));
    ASSERT_TRUE(admission.on_authenticated("10.0.0.1", "alice", 0).admitted);
    for (int i = 0; i < 5; ++i)
        ASSERT_FALSE(admission.on_authenticated("10.0.0.1", "alice", 0).admitted);
    // One slot of the IP is still free.
    EXPECT_TRUE(admission.on_authenticated("10.0.0.1", "bob", 0).admitted);
    EXPECT_FALSE(admission.on_authenticated("10.0.0.1", "carol", 0).admitted);
}

TEST(Admission, UnlimitedConnections) {
    Admission admission(limits(0, 10, 0, 0));
    for (int i = 0; i < 5'000; ++i)
        ASSERT_TRUE(admission.on_authenticated("10.0.0.1", "alice", 0).admitted) << i;
    EXPECT_EQ(admission.connections_of_user("alice"), 5'000u);
}

TEST(Admission, UniqueUsers) {
    Admission admission(limits(0, 10, 0, 0));
    EXPECT_EQ(admission.unique_users(), 0u);
    ASSERT_TRUE(admission.on_authenticated("10.0.0.1", "alice", 0).admitted);
    ASSERT_TRUE(admission.on_authenticated("10.0.0.2", "alice", 0).admitted);
    ASSERT_TRUE(admission.on_authenticated("10.0.0.1", "bob", 0).admitted);
    EXPECT_EQ(admission.unique_users(), 2u);
    admission.on_closed("10.0.0.1", "alice");
    EXPECT_EQ(admission.unique_users(), 2u);
    admission.on_closed("10.0.0.2", "alice");
    EXPECT_EQ(admission.unique_users(), 1u);
    EXPECT_EQ(admission.connections_of_user("alice"), 0u);
    admission.on_closed("10.0.0.1", "bob");
    EXPECT_EQ(admission.unique_users(), 0u);
}

TEST(Admission, ClosingUnknownConnectionsChangesNothing) {
    Admission admission(limits(0, 10, 1, 1));
    ASSERT_TRUE(admission.on_authenticated("10.0.0.1", "alice", 0).admitted);
    admission.on_closed("10.9.9.9", "nobody");
    admission.on_closed("10.0.0.2", "bob");
    EXPECT_EQ(admission.unique_users(), 1u);
    EXPECT_EQ(admission.connections_of_user("alice"), 1u);
    EXPECT_FALSE(admission.on_authenticated("10.0.0.1", "carol", 0).admitted);
    EXPECT_FALSE(admission.on_authenticated("10.0.0.2", "alice", 0).admitted);
}

TEST(Admission, ForgetIdleDropsOnlyIdleFullEntries) {
    Admission admission(limits(60, 10, 0, 0));
    // A: one handshake at t=0 (its bucket refills within a second).
    ASSERT_TRUE(admission.on_handshake("10.0.0.1", 0).admitted);
    // B: an open connection.
    ASSERT_TRUE(admission.on_handshake("10.0.0.2", 0).admitted);
    ASSERT_TRUE(admission.on_authenticated("10.0.0.2", "bob", 0).admitted);
    // C: a failed authentication (its failed-auth bucket refills within 12 s).
    ASSERT_TRUE(failed_attempt(admission, "10.0.0.3", 0));
    ASSERT_EQ(admission.tracked_ips(), 3u);

    admission.forget_idle(0);
    EXPECT_EQ(admission.tracked_ips(), 3u);  // nothing is full yet
    admission.forget_idle(1'000);
    EXPECT_EQ(admission.tracked_ips(), 2u);  // A is full again and idle
    admission.forget_idle(12'000);
    EXPECT_EQ(admission.tracked_ips(), 1u);  // C too; B has a connection
    admission.forget_idle(10'000'000);
    EXPECT_EQ(admission.tracked_ips(), 1u);
    admission.on_closed("10.0.0.2", "bob");
    admission.forget_idle(10'000'000);
    EXPECT_EQ(admission.tracked_ips(), 0u);
}

TEST(Admission, ForgottenIpStartsWithAFreshBudget) {
    Admission admission(limits(2, 10, 0, 0));
    ASSERT_TRUE(admission.on_handshake("10.0.0.1", 0).admitted);
    ASSERT_TRUE(admission.on_handshake("10.0.0.1", 0).admitted);
    ASSERT_FALSE(admission.on_handshake("10.0.0.1", 0).admitted);
    admission.forget_idle(60'000);
    ASSERT_EQ(admission.tracked_ips(), 0u);
    EXPECT_TRUE(admission.on_handshake("10.0.0.1", 60'000).admitted);
    EXPECT_TRUE(admission.on_handshake("10.0.0.1", 60'000).admitted);
    EXPECT_FALSE(admission.on_handshake("10.0.0.1", 60'000).admitted);
}

TEST(Admission, ForgetIdleKeepsABlockedIpWhileItIsBlocked) {
    Admission admission(limits(100, 2, 0, 0));
    ASSERT_TRUE(failed_attempt(admission, "10.0.0.1", 0));
    ASSERT_TRUE(failed_attempt(admission, "10.0.0.1", 0));
    admission.forget_idle(1'000);
    EXPECT_EQ(admission.tracked_ips(), 1u);
    EXPECT_FALSE(admission.on_handshake("10.0.0.1", 1'000).admitted);
}

// An address that used up its failed-auth budget and never came back must still be forgotten once
// its buckets are full again; otherwise every address that ever failed K times stays in the map.
TEST(Admission, ForgetIdleDropsABlockedIpOnceItsBudgetsAreFull) {
    Admission admission(limits(100, 2, 0, 0));
    ASSERT_TRUE(failed_attempt(admission, "10.0.0.1", 0));
    ASSERT_TRUE(failed_attempt(admission, "10.0.0.1", 0));
    ASSERT_FALSE(admission.on_handshake("10.0.0.1", 0).admitted);
    admission.forget_idle(3'600'000);  // an hour later: both buckets are long full
    EXPECT_EQ(admission.tracked_ips(), 0u);
}
