#include "auth/jwt_verifier.hpp"

#include <array>
#include <atomic>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace huddle::auth {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr const char* kSecret = "test-secret-that-is-long-enough-for-hs512-0123456789abcdef";

// ---------------------------------------------------------------------------------------------
// Test-side token building, written independently of the code under test (OpenSSL directly).

std::string base64url(std::string_view bytes) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const auto chunk =
            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]) << 16 |
                                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                                       static_cast<unsigned char>(bytes[i + 2]));
        for (int shift = 18; shift >= 0; shift -= 6) {
            out.push_back(alphabet[(chunk >> shift) & 0x3F]);
        }
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t chunk =
            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]) << 16);
        if (rest == 2) {
            chunk |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1]) << 8);
        }
        out.push_back(alphabet[(chunk >> 18) & 0x3F]);
        out.push_back(alphabet[(chunk >> 12) & 0x3F]);
        if (rest == 2) {
            out.push_back(alphabet[(chunk >> 6) & 0x3F]);
        }
    }
    return out;
}

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Key generate_rsa_key(unsigned int bits) {
    return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)),
               &EVP_PKEY_free);
}

Key generate_ec_key(const char* curve) {
    return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), &EVP_PKEY_free);
}

std::string public_key_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::string private_key_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::string digest_sign(EVP_PKEY* key, std::string_view data) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
    EXPECT_EQ(EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key), 1);
    std::size_t length = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    EXPECT_EQ(EVP_DigestSign(context.get(), nullptr, &length, bytes, data.size()), 1);
    std::string signature(length, '\0');
    EXPECT_EQ(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()),
                             &length, bytes, data.size()),
              1);
    signature.resize(length);
    return signature;
}

// JWS wants ES256 signatures as the raw 32-byte r and s, not OpenSSL's DER.
std::string der_to_raw_p256(const std::string& der) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> signature(
        d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())), &ECDSA_SIG_free);
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(signature.get(), &r, &s);
    std::string raw(64, '\0');
    BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    return raw;
}

std::string hmac(const EVP_MD* digest, std::string_view secret, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    HMAC(digest, secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &length);
    return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

const EVP_MD* hmac_digest(std::string_view algorithm) {
    if (algorithm == "HS384") {
        return EVP_sha384();
    }
    if (algorithm == "HS512") {
        return EVP_sha512();
    }
    return EVP_sha256();
}

std::string signing_input(std::string_view header_json, std::string_view payload_json) {
    return base64url(header_json) + "." + base64url(payload_json);
}

std::string header_for(std::string_view algorithm) {
    return R"({"alg":")" + std::string(algorithm) + R"(","typ":"JWT"})";
}

std::string hs_token(std::string_view algorithm, std::string_view secret,
                     std::string_view payload_json) {
    const auto input = signing_input(header_for(algorithm), payload_json);
    return input + "." + base64url(hmac(hmac_digest(algorithm), secret, input));
}

std::string hs_token_with_header(std::string_view header_json, std::string_view payload_json) {
    const auto input = signing_input(header_json, payload_json);
    return input + "." + base64url(hmac(EVP_sha256(), kSecret, input));
}

std::string rs256_token(EVP_PKEY* key, std::string_view payload_json) {
    const auto input = signing_input(header_for("RS256"), payload_json);
    return input + "." + base64url(digest_sign(key, input));
}

std::string es256_token(EVP_PKEY* key, std::string_view payload_json) {
    const auto input = signing_input(header_for("ES256"), payload_json);
    return input + "." + base64url(der_to_raw_p256(digest_sign(key, input)));
}

std::string payload(const boost::json::object& claims) {
    return boost::json::serialize(claims);
}

boost::json::object claims_valid_now() {
    return {{"sub", "user-1"}, {"iat", kNow}, {"exp", kNow + 600}};
}

// Keys are generated once: RSA key generation takes a noticeable fraction of a second.
struct TestKeys {
    Key rsa = generate_rsa_key(2048);
    Key other_rsa = generate_rsa_key(2048);
    Key ec = generate_ec_key("P-256");
    Key other_ec = generate_ec_key("P-256");
    std::string rsa_public = public_key_pem(rsa.get());
    std::string ec_public = public_key_pem(ec.get());
};

const TestKeys& keys() {
    static const TestKeys instance;
    return instance;
}

JwtSettings hs_settings(std::vector<std::string> algorithms = {"HS256"}) {
    JwtSettings settings;
    settings.algorithms = std::move(algorithms);
    settings.hmac_secret = kSecret;
    return settings;
}

JwtSettings all_algorithms_settings() {
    JwtSettings settings = hs_settings({"HS256", "HS384", "HS512", "RS256", "ES256"});
    settings.rsa_public_key_pem = keys().rsa_public;
    settings.ec_public_key_pem = keys().ec_public;
    return settings;
}

void expect_refused(const VerifyResult& result, std::string_view expected_error) {
    EXPECT_FALSE(result.identity.has_value());
    EXPECT_EQ(result.error, expected_error);
}

// ---------------------------------------------------------------------------------------------
// Happy paths

class HmacAlgorithms : public ::testing::TestWithParam<std::string> {};

TEST_P(HmacAlgorithms, AcceptsTokenSignedWithTheSecret) {
    const JwtVerifier verifier(hs_settings({GetParam()}));
    const auto result =
        verifier.verify(hs_token(GetParam(), kSecret, payload(claims_valid_now())), kNow);
    ASSERT_TRUE(result.identity.has_value()) << result.error;
    EXPECT_TRUE(result.error.empty());
    EXPECT_EQ(result.identity->subject, "user-1");
    EXPECT_EQ(result.identity->expires_at, kNow + 600);
    EXPECT_EQ(result.identity->claims.at("iat").as_int64(), kNow);
}

TEST_P(HmacAlgorithms, RefusesTokenSignedWithAnotherSecret) {
    const JwtVerifier verifier(hs_settings({GetParam()}));
    expect_refused(
        verifier.verify(hs_token(GetParam(), "another secret", payload(claims_valid_now())), kNow),
        "invalid signature");
}

TEST_P(HmacAlgorithms, MintedTokenVerifies) {
    const JwtVerifier verifier(hs_settings({GetParam()}));
    const auto token = mint_hs_token(GetParam(), kSecret, "user-2", {}, 60s, kNow);
    const auto result = verifier.verify(token, kNow);
    ASSERT_TRUE(result.identity.has_value()) << result.error;
    EXPECT_EQ(result.identity->subject, "user-2");
}

INSTANTIATE_TEST_SUITE_P(Jwt, HmacAlgorithms, ::testing::Values("HS256", "HS384", "HS512"));

TEST(JwtVerifier, AcceptsRs256) {
    const JwtVerifier verifier(all_algorithms_settings());
    const auto result =
        verifier.verify(rs256_token(keys().rsa.get(), payload(claims_valid_now())), kNow);
    ASSERT_TRUE(result.identity.has_value()) << result.error;
    EXPECT_EQ(result.identity->subject, "user-1");
}

TEST(JwtVerifier, AcceptsEs256) {
    const JwtVerifier verifier(all_algorithms_settings());
    const auto result =
        verifier.verify(es256_token(keys().ec.get(), payload(claims_valid_now())), kNow);
    ASSERT_TRUE(result.identity.has_value()) << result.error;
    EXPECT_EQ(result.identity->subject, "user-1");
}

TEST(JwtVerifier, RefusesRs256SignedByAnotherKey) {
    const JwtVerifier verifier(all_algorithms_settings());
    expect_refused(
        verifier.verify(rs256_token(keys().other_rsa.get(), payload(claims_valid_now())), kNow),
        "invalid signature");
}

TEST(JwtVerifier, RefusesEs256SignedByAnotherKey) {
    const JwtVerifier verifier(all_algorithms_settings());
    expect_refused(
        verifier.verify(es256_token(keys().other_ec.get(), payload(claims_valid_now())), kNow),
        "invalid signature");
}

TEST(JwtVerifier, RefusesTamperedPayload) {
    const JwtVerifier verifier(all_algorithms_settings());
    const auto original = rs256_token(keys().rsa.get(), payload(claims_valid_now()));
    auto claims = claims_valid_now();
    claims["sub"] = "admin";
    const auto first_dot = original.find('.');
    const auto second_dot = original.find('.', first_dot + 1);
    const auto forged = original.substr(0, first_dot + 1) + base64url(payload(claims)) +
                        original.substr(second_dot);
    expect_refused(verifier.verify(forged, kNow), "invalid signature");
}

// ---------------------------------------------------------------------------------------------
// Signature shapes (RS256 and ES256 are checked with OpenSSL EVP on keys parsed once)

// Like digest_sign, with any digest and, for RSA keys, any padding (0 keeps the default).
std::string digest_sign_with(EVP_PKEY* key, const EVP_MD* digest, int rsa_padding,
                             std::string_view data) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;
    EXPECT_EQ(EVP_DigestSignInit(context.get(), &key_context, digest, nullptr, key), 1);
    if (rsa_padding != 0) {
        EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(key_context, rsa_padding), 1);
    }
    std::size_t length = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    EXPECT_EQ(EVP_DigestSign(context.get(), nullptr, &length, bytes, data.size()), 1);
    std::string signature(length, '\0');
    EXPECT_EQ(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()),
                             &length, bytes, data.size()),
              1);
    signature.resize(length);
    return signature;
}

// A token for `algorithm` whose signature bytes are `signature` (not base64url yet).
std::string token_with_signature(std::string_view algorithm, std::string_view signature) {
    return signing_input(header_for(algorithm), payload(claims_valid_now())) + "." +
           base64url(signature);
}

std::string es256_input() {
    return signing_input(header_for("ES256"), payload(claims_valid_now()));
}

std::string rs256_input() {
    return signing_input(header_for("RS256"), payload(claims_valid_now()));
}

// The order n of P-256 as 32 big-endian bytes.
std::string p256_order_bytes() {
    std::unique_ptr<EC_GROUP, decltype(&EC_GROUP_free)> group(
        EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1), &EC_GROUP_free);
    std::string order(32, '\0');
    EXPECT_EQ(BN_bn2binpad(EC_GROUP_get0_order(group.get()),
                           reinterpret_cast<unsigned char*>(order.data()), 32),
              32);
    return order;
}

TEST(JwtVerifier, RefusesEs256SignatureOfWrongLength) {
    const JwtVerifier verifier(all_algorithms_settings());
    const std::string der = digest_sign(keys().ec.get(), es256_input());
    const std::string raw = der_to_raw_p256(der);
    ASSERT_EQ(raw.size(), 64U);
    ASSERT_TRUE(verifier.verify(token_with_signature("ES256", raw), kNow).identity);

    const std::vector<std::string> wrong_lengths{
        der,                         // OpenSSL's DER form (70 to 72 bytes) is not JWS
        raw.substr(0, 63),           // truncated
        raw + std::string(1, '\0'),  // trailing byte
        std::string(1, '\0') + raw,  // leading zero byte
        raw.substr(0, 32),           // r alone
        raw + raw,                   // 128 bytes
        std::string(1, '\0') + raw.substr(0, 32) + std::string(1, '\0') + raw.substr(32),  // 66
        std::string(96, '\x01'),  // ES384-sized
        std::string(1, '\x01'),
    };
    for (const auto& signature : wrong_lengths) {
        expect_refused(verifier.verify(token_with_signature("ES256", signature), kNow),
                       "invalid signature");
    }
}

TEST(JwtVerifier, RefusesEs256SignatureWithRAndSSwapped) {
    const JwtVerifier verifier(all_algorithms_settings());
    const std::string raw = der_to_raw_p256(digest_sign(keys().ec.get(), es256_input()));
    ASSERT_TRUE(verifier.verify(token_with_signature("ES256", raw), kNow).identity);
    const std::string swapped = raw.substr(32) + raw.substr(0, 32);
    ASSERT_NE(swapped, raw);
    expect_refused(verifier.verify(token_with_signature("ES256", swapped), kNow),
                   "invalid signature");
}

TEST(JwtVerifier, RefusesEs256SignatureWithScalarOutOfRange) {
    const JwtVerifier verifier(all_algorithms_settings());
    const std::string raw = der_to_raw_p256(digest_sign(keys().ec.get(), es256_input()));
    const std::string r = raw.substr(0, 32);
    const std::string s = raw.substr(32);
    const std::string zero(32, '\0');
    const std::string order = p256_order_bytes();
    const std::string all_ones(32, '\xff');
    for (const auto& signature :
         {zero + s, r + zero, zero + zero, order + s, r + order, all_ones + s, r + all_ones}) {
        expect_refused(verifier.verify(token_with_signature("ES256", signature), kNow),
                       "invalid signature");
    }
}

TEST(JwtVerifier, RefusesRs256SignatureOfWrongPaddingDigestOrLength) {
    const JwtVerifier verifier(all_algorithms_settings());
    EVP_PKEY* key = keys().rsa.get();
    const std::string input = rs256_input();
    const std::string valid = digest_sign_with(key, EVP_sha256(), RSA_PKCS1_PADDING, input);
    ASSERT_EQ(valid.size(), 256U);
    ASSERT_TRUE(verifier.verify(token_with_signature("RS256", valid), kNow).identity);

    const std::vector<std::string> wrong{
        digest_sign_with(key, EVP_sha256(), RSA_PKCS1_PSS_PADDING, input),  // PS256, not RS256
        digest_sign_with(key, EVP_sha512(), RSA_PKCS1_PADDING, input),      // RS512
        digest_sign_with(key, EVP_sha1(), RSA_PKCS1_PADDING, input),
        std::string(1, '\0') + valid,  // 257 bytes, same number
        valid.substr(1),               // 255 bytes
        valid + std::string(1, '\0'),
        std::string(256, '\0'),
        std::string(256, '\xff'),  // not below the modulus
    };
    for (const auto& signature : wrong) {
        expect_refused(verifier.verify(token_with_signature("RS256", signature), kNow),
                       "invalid signature");
    }
}

// ---------------------------------------------------------------------------------------------
// Time claims

TEST(JwtVerifier, RefusesExpiredToken) {
    const JwtVerifier verifier(hs_settings());
    auto claims = claims_valid_now();
    claims["exp"] = kNow - 31;  // beyond the default 30 s leeway
    expect_refused(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow),
                   "token expired");
}

TEST(JwtVerifier, AcceptsRecentlyExpiredTokenWithinLeeway) {
    const JwtVerifier verifier(hs_settings());
    auto claims = claims_valid_now();
    claims["exp"] = kNow - 29;
    const auto result = verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow);
    EXPECT_TRUE(result.identity.has_value()) << result.error;
}

TEST(JwtVerifier, ExpiresExactlyAtExpWithoutLeeway) {
    JwtSettings settings = hs_settings();
    settings.leeway = 0s;
    const JwtVerifier verifier(settings);
    auto claims = claims_valid_now();
    claims["exp"] = kNow;
    const auto token = hs_token("HS256", kSecret, payload(claims));
    expect_refused(verifier.verify(token, kNow), "token expired");
    EXPECT_TRUE(verifier.verify(token, kNow - 1).identity.has_value());
}

TEST(JwtVerifier, RefusesTokenNotYetValid) {
    const JwtVerifier verifier(hs_settings());
    auto claims = claims_valid_now();
    claims["nbf"] = kNow + 31;
    expect_refused(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow),
                   "token not yet valid");
}

TEST(JwtVerifier, AcceptsNotBeforeWithinLeeway) {
    const JwtVerifier verifier(hs_settings());
    auto claims = claims_valid_now();
    claims["nbf"] = kNow + 30;
    EXPECT_TRUE(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow).identity);
}

TEST(JwtVerifier, AcceptsFractionalAndHugeTimes) {
    const JwtVerifier verifier(hs_settings());
    auto claims = claims_valid_now();
    claims["exp"] = static_cast<double>(kNow) + 10.5;
    auto result = verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow);
    ASSERT_TRUE(result.identity.has_value()) << result.error;
    EXPECT_EQ(result.identity->expires_at, kNow + 10);

    claims["exp"] = 1e300;
    EXPECT_TRUE(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow).identity);
    claims["exp"] = std::numeric_limits<std::uint64_t>::max();
    EXPECT_TRUE(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow).identity);
    claims["exp"] = std::numeric_limits<std::int64_t>::max();  // + leeway must not overflow
    EXPECT_TRUE(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow).identity);
}

TEST(JwtVerifier, AcceptsTokenWithoutExp) {
    const JwtVerifier verifier(hs_settings());
    const auto result = verifier.verify(hs_token("HS256", kSecret, R"({"sub":"u"})"), kNow);
    ASSERT_TRUE(result.identity.has_value()) << result.error;
    EXPECT_FALSE(result.identity->expires_at.has_value());
}

TEST(JwtVerifier, RefusesNonNumericTimes) {
    const JwtVerifier verifier(hs_settings());
    expect_refused(
        verifier.verify(hs_token("HS256", kSecret, R"({"sub":"u","exp":"tomorrow"})"), kNow),
        "invalid exp claim");
    expect_refused(verifier.verify(hs_token("HS256", kSecret, R"({"sub":"u","nbf":null})"), kNow),
                   "invalid nbf claim");
}

// ---------------------------------------------------------------------------------------------
// Issuer and audience

JwtSettings issuer_audience_settings() {
    JwtSettings settings = hs_settings();
    settings.issuer = "https://app.example";
    settings.audience = "huddle";
    return settings;
}

TEST(JwtVerifier, AcceptsMatchingIssuerAndAudience) {
    const JwtVerifier verifier(issuer_audience_settings());
    auto claims = claims_valid_now();
    claims["iss"] = "https://app.example";
    claims["aud"] = "huddle";
    EXPECT_TRUE(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow).identity);
}

TEST(JwtVerifier, AcceptsAudienceArrayContainingOurs) {
    const JwtVerifier verifier(issuer_audience_settings());
    auto claims = claims_valid_now();
    claims["iss"] = "https://app.example";
    claims["aud"] = boost::json::array{"billing", 7, "huddle"};
    EXPECT_TRUE(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow).identity);
}

TEST(JwtVerifier, RefusesIssuerMismatchOrAbsence) {
    const JwtVerifier verifier(issuer_audience_settings());
    auto claims = claims_valid_now();
    claims["aud"] = "huddle";
    expect_refused(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow),
                   "issuer mismatch");
    claims["iss"] = "https://evil.example";
    expect_refused(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow),
                   "issuer mismatch");
}

TEST(JwtVerifier, RefusesAudienceMismatchOrAbsence) {
    const JwtVerifier verifier(issuer_audience_settings());
    auto claims = claims_valid_now();
    claims["iss"] = "https://app.example";
    expect_refused(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow),
                   "audience mismatch");
    claims["aud"] = "billing";
    expect_refused(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow),
                   "audience mismatch");
    claims["aud"] = boost::json::array{"billing", "reports"};
    expect_refused(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow),
                   "audience mismatch");
}

TEST(JwtVerifier, IgnoresIssuerAndAudienceWhenNotConfigured) {
    const JwtVerifier verifier(hs_settings());
    auto claims = claims_valid_now();
    claims["iss"] = "anyone";
    claims["aud"] = boost::json::array{"anything"};
    EXPECT_TRUE(verifier.verify(hs_token("HS256", kSecret, payload(claims)), kNow).identity);
}

// ---------------------------------------------------------------------------------------------
// Subject

TEST(JwtVerifier, RefusesMissingSubject) {
    const JwtVerifier verifier(hs_settings());
    expect_refused(verifier.verify(hs_token("HS256", kSecret, R"({"exp":1800000000})"), kNow),
                   "missing subject");
}

TEST(JwtVerifier, RefusesEmptyOrNonStringSubject) {
    const JwtVerifier verifier(hs_settings());
    expect_refused(verifier.verify(hs_token("HS256", kSecret, R"({"sub":""})"), kNow),
                   "invalid subject");
    expect_refused(verifier.verify(hs_token("HS256", kSecret, R"({"sub":42})"), kNow),
                   "invalid subject");
}

TEST(JwtVerifier, AcceptsUserIdWhenSubIsAbsent) {
    const JwtVerifier verifier(hs_settings());
    const auto result = verifier.verify(hs_token("HS256", kSecret, R"({"userId":"u-9"})"), kNow);
    ASSERT_TRUE(result.identity.has_value()) << result.error;
    EXPECT_EQ(result.identity->subject, "u-9");
}

TEST(JwtVerifier, PrefersSubOverUserId) {
    const JwtVerifier verifier(hs_settings());
    const auto result =
        verifier.verify(hs_token("HS256", kSecret, R"({"sub":"s-1","userId":"u-9"})"), kNow);
    ASSERT_TRUE(result.identity.has_value()) << result.error;
    EXPECT_EQ(result.identity->subject, "s-1");
}

// ---------------------------------------------------------------------------------------------
// Algorithm attacks

TEST(JwtVerifier, RefusesAlgNoneAlways) {
    const JwtVerifier verifier(all_algorithms_settings());
    const std::string body = base64url(payload(claims_valid_now()));
    // {"alg":"none"}
    EXPECT_EQ(base64url(R"({"alg":"none"})"), "eyJhbGciOiJub25lIn0");
    expect_refused(verifier.verify("eyJhbGciOiJub25lIn0." + body + ".", kNow), "malformed token");
    expect_refused(verifier.verify("eyJhbGciOiJub25lIn0." + body + ".c2ln", kNow),
                   "algorithm not allowed");
    for (const char* spelling : {"none", "None", "NONE", "nOnE"}) {
        const auto header = base64url(R"({"alg":")" + std::string(spelling) + R"("})");
        expect_refused(verifier.verify(header + "." + body + ".AAAA", kNow),
                       "algorithm not allowed");
    }
}

TEST(JwtVerifier, RefusesHmacTokenSignedWithThePublicKey) {
    // The classic confusion: the attacker signs HS256 with the (public) RSA PEM as secret.
    const auto forged = hs_token("HS256", keys().rsa_public, payload(claims_valid_now()));

    JwtSettings rsa_only;
    rsa_only.algorithms = {"RS256"};
    rsa_only.rsa_public_key_pem = keys().rsa_public;
    expect_refused(JwtVerifier(rsa_only).verify(forged, kNow), "algorithm not allowed");

    // Even with HS256 also allowed, HS256 only ever uses the HMAC secret.
    expect_refused(JwtVerifier(all_algorithms_settings()).verify(forged, kNow),
                   "invalid signature");
}

TEST(JwtVerifier, RefusesAlgorithmOutsideAllowList) {
    const JwtVerifier verifier(hs_settings({"HS256"}));
    expect_refused(verifier.verify(hs_token("HS512", kSecret, payload(claims_valid_now())), kNow),
                   "algorithm not allowed");
    expect_refused(
        verifier.verify(rs256_token(keys().rsa.get(), payload(claims_valid_now())), kNow),
        "algorithm not allowed");
    expect_refused(verifier.verify(hs_token("hs256", kSecret, payload(claims_valid_now())), kNow),
                   "algorithm not allowed");
    expect_refused(verifier.verify(hs_token("RS384", kSecret, payload(claims_valid_now())), kNow),
                   "algorithm not allowed");
}

// Flips the lowest bit of the last base64url digit: for 256- and 64-byte signatures that bit
// carries no data, so only a strict decoder notices.
std::string with_unused_signature_bit_flipped(std::string token) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char& last = token.back();
    last = alphabet[alphabet.find(last) ^ 1U];
    return token;
}

TEST(JwtVerifier, RefusesNonCanonicalSignatureEncoding) {
    const JwtVerifier verifier(all_algorithms_settings());
    for (const auto& token : {rs256_token(keys().rsa.get(), payload(claims_valid_now())),
                              es256_token(keys().ec.get(), payload(claims_valid_now()))}) {
        ASSERT_TRUE(verifier.verify(token, kNow).identity);
        expect_refused(verifier.verify(with_unused_signature_bit_flipped(token), kNow),
                       "invalid signature");
    }
}

TEST(JwtVerifier, RefusesRsaSignatureUnderEsHeader) {
    const JwtVerifier verifier(all_algorithms_settings());
    const auto input = signing_input(header_for("ES256"), payload(claims_valid_now()));
    const auto token = input + "." + base64url(digest_sign(keys().rsa.get(), input));
    expect_refused(verifier.verify(token, kNow), "invalid signature");
}

TEST(JwtVerifier, RefusesCriticalHeaderExtensions) {
    const JwtVerifier verifier(hs_settings());
    const auto token = hs_token_with_header(R"({"alg":"HS256","crit":["b64"],"b64":false})",
                                            payload(claims_valid_now()));
    expect_refused(verifier.verify(token, kNow), "unsupported critical header");
}

TEST(JwtVerifier, IgnoresTypAndKid) {
    const JwtVerifier verifier(hs_settings());
    const auto token = hs_token_with_header(R"({"alg":"HS256","typ":"at+jwt","kid":"k1"})",
                                            payload(claims_valid_now()));
    EXPECT_TRUE(verifier.verify(token, kNow).identity);
}

// ---------------------------------------------------------------------------------------------
// Malformed input never throws

void expect_refused_without_throwing(const JwtVerifier& verifier, const std::string& token) {
    VerifyResult result;
    EXPECT_NO_THROW(result = verifier.verify(token, kNow)) << "token of size " << token.size();
    EXPECT_FALSE(result.identity.has_value());
    EXPECT_FALSE(result.error.empty());
    if (token.size() >= 8) {
        EXPECT_EQ(result.error.find(token), std::string::npos);
    }
}

TEST(JwtVerifier, RefusesGarbage) {
    const JwtVerifier verifier(all_algorithms_settings());
    const std::string valid_body = base64url(payload(claims_valid_now()));
    const std::vector<std::string> garbage{
        "",
        ".",
        "..",
        "...",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        std::string(1 << 20, 'a'),
        std::string(kMaxTokenBytes + 1, '.'),
        "@@@.###.$$$",
        "eyJhbGciOiJIUzI1NiJ9.e30=.c2ln",
        "eyJhbGciOiJIUzI1NiJ9.." + std::string("c2ln"),
        base64url("not json") + "." + valid_body + ".c2ln",
        base64url("[1,2,3]") + "." + valid_body + ".c2ln",
        base64url(R"({"alg":256})") + "." + valid_body + ".c2ln",
        base64url(R"({"typ":"JWT"})") + "." + valid_body + ".c2ln",
        base64url(R"({"alg":"HS256")") + "." + valid_body + ".c2ln",
        base64url(std::string("{\"alg\":\"HS256\0\"}", 16)) + "." + valid_body + ".c2ln",
        "\xff\xfe\xfd.\x80\x81.\xc3\xa9",
        base64url(R"({"alg":"RS256"})") + "." + valid_body + ".\xff\xfe\x80\x81",
        base64url(R"({"alg":"ES256"})") + "." + valid_body + ".\xff\xfe\x80\x81",
        base64url(R"({"alg":"RS256"})") + "." + valid_body + ".A",
        base64url(R"({"alg":"ES256"})") + "." + valid_body + ".AAAA",
        base64url(R"({"alg":"HS256"})") + "." + valid_body + ".=",
        base64url(R"({"alg":"HS256"})") + "." + valid_body + ". ",
        std::string(5000, '[') + "." + valid_body + ".c2ln",
        base64url(std::string(5000, '[')) + "." + valid_body + ".c2ln",
    };
    for (const auto& token : garbage) {
        expect_refused_without_throwing(verifier, token);
    }
}

TEST(JwtVerifier, RefusesValidlySignedGarbagePayload) {
    const JwtVerifier verifier(hs_settings());
    expect_refused(verifier.verify(hs_token("HS256", kSecret, "not json"), kNow),
                   "malformed token");
    expect_refused(verifier.verify(hs_token("HS256", kSecret, "[]"), kNow), "malformed token");
    expect_refused(verifier.verify(hs_token("HS256", kSecret, std::string(100, '[')), kNow),
                   "malformed token");
}

TEST(JwtVerifier, RefusesRandomBytesAndMutations) {
    const JwtVerifier verifier(all_algorithms_settings());
    const std::vector<std::string> seeds{
        hs_token("HS256", kSecret, payload(claims_valid_now())),
        rs256_token(keys().rsa.get(), payload(claims_valid_now())),
        es256_token(keys().ec.get(), payload(claims_valid_now())),
    };
    std::mt19937 random(12345);
    for (int round = 0; round < 3000; ++round) {
        std::string token = seeds[static_cast<std::size_t>(round) % seeds.size()];
        const int mutations = 1 + static_cast<int>(random() % 4);
        for (int m = 0; m < mutations; ++m) {
            char& byte = token[random() % token.size()];
            byte =
                static_cast<char>(byte ^ static_cast<char>(1 + random() % 255));  // always changes
        }
        VerifyResult result;
        EXPECT_NO_THROW(result = verifier.verify(token, kNow));
        // Strict base64url leaves no unused bits to flip, so no mutation may pass.
        EXPECT_FALSE(result.identity.has_value()) << "mutated token accepted";
    }
    for (int round = 0; round < 2000; ++round) {
        std::string bytes(random() % 200, '\0');
        for (auto& byte : bytes) {
            byte = static_cast<char>(random() % 256);
        }
        EXPECT_NO_THROW((void)verifier.verify(bytes, kNow));
    }
}

// ---------------------------------------------------------------------------------------------
// Minting

TEST(MintHsToken, RoundTripKeepsExtraClaimTypes) {
    const JwtVerifier verifier(hs_settings({"HS384"}));
    const boost::json::object extra{{"firmId", "firm-42"},
                                    {"seats", 12},
                                    {"ratio", 0.5},
                                    {"admin", true},
                                    {"rooms", boost::json::array{"doc:*", "firm:firm-42"}}};
    const auto token = mint_hs_token("HS384", kSecret, "user-7", extra, 3600s, kNow);
    const auto result = verifier.verify(token, kNow + 10);
    ASSERT_TRUE(result.identity.has_value()) << result.error;
    const auto& identity = *result.identity;
    EXPECT_EQ(identity.subject, "user-7");
    EXPECT_EQ(identity.expires_at, kNow + 3600);
    EXPECT_EQ(identity.claims.at("iat").as_int64(), kNow);
    EXPECT_EQ(identity.claims.at("firmId").as_string(), "firm-42");
    EXPECT_EQ(identity.claims.at("seats").as_int64(), 12);
    EXPECT_DOUBLE_EQ(identity.claims.at("ratio").as_double(), 0.5);
    EXPECT_EQ(identity.claims.at("admin").as_bool(), true);
    EXPECT_EQ(identity.claims.at("rooms").as_array().size(), 2U);
}

TEST(MintHsToken, StandardClaimsWinOverExtraClaims) {
    const JwtVerifier verifier(hs_settings());
    const boost::json::object extra{{"sub", "someone-else"}, {"exp", 1}};
    const auto result =
        verifier.verify(mint_hs_token("HS256", kSecret, "me", extra, 60s, kNow), kNow);
    ASSERT_TRUE(result.identity.has_value()) << result.error;
    EXPECT_EQ(result.identity->subject, "me");
    EXPECT_EQ(result.identity->expires_at, kNow + 60);
}

TEST(MintHsToken, MintedTokenExpires) {
    const JwtVerifier verifier(hs_settings());
    const auto token = mint_hs_token("HS256", kSecret, "me", {}, 60s, kNow);
    expect_refused(verifier.verify(token, kNow + 60 + 30), "token expired");
}

TEST(MintHsToken, MatchesIndependentHmac) {
    const auto token = mint_hs_token("HS256", kSecret, "me", {}, 60s, kNow);
    const auto last_dot = token.rfind('.');
    const auto input = token.substr(0, last_dot);
    EXPECT_EQ(token.substr(last_dot + 1), base64url(hmac(EVP_sha256(), kSecret, input)));
}

TEST(MintHsToken, RefusesNonHmacAlgorithmOrEmptySecret) {
    EXPECT_THROW((void)mint_hs_token("RS256", kSecret, "me", {}, 60s, kNow), std::invalid_argument);
    EXPECT_THROW((void)mint_hs_token("none", kSecret, "me", {}, 60s, kNow), std::invalid_argument);
    EXPECT_THROW((void)mint_hs_token("HS256", "", "me", {}, 60s, kNow), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Settings validation

void expect_invalid_settings(const JwtSettings& settings) {
    EXPECT_THROW(JwtVerifier{settings}, std::invalid_argument);
}

TEST(JwtSettingsValidation, RefusesUnknownAlgorithmsAndNone) {
    expect_invalid_settings(hs_settings({"HS256", "PS256"}));
    expect_invalid_settings(hs_settings({"none"}));
    expect_invalid_settings(hs_settings({"hs256"}));
    expect_invalid_settings(hs_settings({}));
}

TEST(JwtSettingsValidation, RefusesMissingKeys) {
    JwtSettings settings;
    settings.algorithms = {"HS256"};
    expect_invalid_settings(settings);
    settings.algorithms = {"RS256"};
    expect_invalid_settings(settings);
    settings.algorithms = {"ES256"};
    expect_invalid_settings(settings);
}

TEST(JwtSettingsValidation, RefusesUnusablePem) {
    JwtSettings settings;
    settings.algorithms = {"RS256"};
    settings.rsa_public_key_pem =
        "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n";
    expect_invalid_settings(settings);
    settings.rsa_public_key_pem = "/etc/keys/public.pem";  // a path, not PEM text
    expect_invalid_settings(settings);
    settings.rsa_public_key_pem = private_key_pem(keys().rsa.get());
    expect_invalid_settings(settings);
    settings.rsa_public_key_pem = keys().ec_public;  // wrong key type
    expect_invalid_settings(settings);

    const Key short_rsa = generate_rsa_key(1024);
    settings.rsa_public_key_pem = public_key_pem(short_rsa.get());
    expect_invalid_settings(settings);

    settings.algorithms = {"ES256"};
    settings.rsa_public_key_pem.clear();
    settings.ec_public_key_pem = keys().rsa_public;  // wrong key type
    expect_invalid_settings(settings);
    const Key p384 = generate_ec_key("P-384");
    settings.ec_public_key_pem = public_key_pem(p384.get());  // wrong curve for ES256
    expect_invalid_settings(settings);
}

TEST(JwtSettingsValidation, RefusesNegativeLeeway) {
    JwtSettings settings = hs_settings();
    settings.leeway = -1s;
    expect_invalid_settings(settings);
}

TEST(JwtSettingsValidation, ErrorMessageNamesTheProblem) {
    try {
        JwtVerifier verifier(hs_settings({"XS999"}));
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find("XS999"), std::string::npos);
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrency

TEST(JwtVerifier, VerifiesConcurrentlyFromManyThreads) {
    const JwtVerifier verifier(all_algorithms_settings());
    const std::vector<std::string> tokens{
        hs_token("HS256", kSecret, payload(claims_valid_now())),
        hs_token("HS512", kSecret, payload(claims_valid_now())),
        rs256_token(keys().rsa.get(), payload(claims_valid_now())),
        es256_token(keys().ec.get(), payload(claims_valid_now())),
        rs256_token(keys().other_rsa.get(), payload(claims_valid_now())),  // must fail
    };
    std::atomic<int> wrong_answers{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                const auto index = static_cast<std::size_t>(i + t) % tokens.size();
                const bool accepted = verifier.verify(tokens[index], kNow).identity.has_value();
                if (accepted != (index != tokens.size() - 1)) {
                    ++wrong_answers;
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(wrong_answers.load(), 0);
}

// 4 threads x 1000 verifications on one const verifier, cycling through valid and forged tokens
// of every algorithm; each answer (subject or error) must be the one a single thread gets.
TEST(JwtVerifier, VerifiesMixedAlgorithmsConcurrently) {
    const JwtVerifier verifier(all_algorithms_settings());
    struct Case {
        std::string token;
        std::string subject;  // expected subject, or empty when refused
        std::string error;    // expected error when refused
    };
    std::vector<Case> cases;
    for (int i = 0; i < 6; ++i) {
        auto claims = claims_valid_now();
        const std::string subject = "user-" + std::to_string(i);
        claims["sub"] = subject;
        const std::string body = payload(claims);
        const std::string es_input = signing_input(header_for("ES256"), body);
        const std::string es_raw = der_to_raw_p256(digest_sign(keys().ec.get(), es_input));
        cases.push_back({hs_token("HS256", kSecret, body), subject, {}});
        cases.push_back({hs_token("HS384", kSecret, body), subject, {}});
        cases.push_back({hs_token("HS512", kSecret, body), subject, {}});
        cases.push_back({rs256_token(keys().rsa.get(), body), subject, {}});
        cases.push_back({es_input + "." + base64url(es_raw), subject, {}});
        cases.push_back({rs256_token(keys().other_rsa.get(), body), {}, "invalid signature"});
        cases.push_back({es256_token(keys().other_ec.get(), body), {}, "invalid signature"});
        cases.push_back({es_input + "." + base64url(es_raw.substr(32) + es_raw.substr(0, 32)),
                         {},
                         "invalid signature"});
        cases.push_back(
            {es_input + "." + base64url(es_raw.substr(0, 63)), {}, "invalid signature"});
        cases.push_back({hs_token("HS256", "another secret", body), {}, "invalid signature"});
        auto expired = claims;
        expired["exp"] = kNow - 3600;
        cases.push_back({rs256_token(keys().rsa.get(), payload(expired)), {}, "token expired"});
        cases.push_back({es256_token(keys().ec.get(), payload(expired)), {}, "token expired"});
    }
    // The expectations themselves are checked single-threaded first.
    const auto matches = [&](const Case& expected) {
        const auto result = verifier.verify(expected.token, kNow);
        if (expected.subject.empty()) {
            return !result.identity && result.error == expected.error;
        }
        return result.identity && result.identity->subject == expected.subject &&
               result.error.empty();
    };
    for (const auto& expected : cases) {
        ASSERT_TRUE(matches(expected)) << expected.token;
    }

    constexpr int kThreads = 4;
    constexpr int kTokensPerThread = 1000;
    std::atomic<int> wrong_answers{0};
    std::atomic<int> verified{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kTokensPerThread; ++i) {
                // Different strides (coprime to the 72 cases) so that each thread visits every
                // case while the threads hit different algorithms at the same moment.
                const auto index = static_cast<std::size_t>(i * (6 * t + 1) + t) % cases.size();
                if (!matches(cases[index])) {
                    ++wrong_answers;
                }
                ++verified;
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(verified.load(), kThreads * kTokensPerThread);
    EXPECT_EQ(wrong_answers.load(), 0);
}

}  // namespace
}  // namespace huddle::auth
