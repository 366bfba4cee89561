// libFuzzer target: arbitrary bytes through JwtVerifier::verify, which must never throw, crash or
// accept anything not signed with the configured key.
//
// The first byte picks what the rest of the input is, so the fuzzer also reaches the code behind
// the signature check (which random bytes practically never pass):
//   0: the whole token;
//   1: the payload JSON of a correctly HS256-signed token (claim checks);
//   2: the header JSON of a correctly HS256-signed token (header checks).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/jwt_verifier.hpp"

namespace {

constexpr std::string_view kSecret = "fuzz-secret";
constexpr std::int64_t kNow = 1'700'000'000;

// Test-only public key; its private half was thrown away.
constexpr const char* kRsaPublicKeyPem = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2pM/7azpfbBqwfUftAy+
ju/p8uIeAX+WRWSRqsTxmvl2gg16+/zMAOB+V8QFcv+1/Vy+4nSCRStsaLpGgIEY
iAQucZiAJ2koYmnocjxX4q00e3LloGG9v2aQw+It4XGqh5Hjm1qdlx8fgEDah9Vw
pMqs4tQqdl8Ao7WuFI3pg6mnPWrRkwX7SJH29eqNQJJyOOlz8I1w/mjl/TMh49j/
ypmbFxhDZNCaRZT289pplMBHa2uEpbLGLrYNzY3exf1u0dfvuvdl9RB+vGt7H0CX
DFwFlrvBKISARv3zMk7jDrEIOMjQlB2AfHyiRQjEw1teWybBZD7QwTnLXtYViFqF
MQIDAQAB
-----END PUBLIC KEY-----
)";

const huddle::auth::JwtVerifier& verifier() {
    static const huddle::auth::JwtVerifier instance([] {
        huddle::auth::JwtSettings settings;
        settings.algorithms = {"HS256", "RS256"};
        settings.hmac_secret = std::string(kSecret);
        settings.rsa_public_key_pem = kRsaPublicKeyPem;
        settings.issuer = "fuzz-issuer";
        settings.audience = "fuzz-audience";
        return settings;
    }());
    return instance;
}

std::string base64url(std::string_view bytes) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string text;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char byte : bytes) {
        buffer = (buffer << 8) | static_cast<unsigned char>(byte);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            text.push_back(alphabet[(buffer >> bits) & 0x3FU]);
        }
    }
    if (bits > 0) {
        text.push_back(alphabet[(buffer << (6 - bits)) & 0x3FU]);
    }
    return text;
}

std::string hs256_token(std::string_view header_json, std::string_view payload_json) {
    std::string token = base64url(header_json) + '.' + base64url(payload_json);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_length = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &mac_length);
    token += '.';
    token += base64url(std::string_view(reinterpret_cast<const char*>(mac), mac_length));
    return token;
}

void check_invariants(const huddle::auth::VerifyResult& result) {
    // Exactly one of identity/error, and an accepted identity always has a subject.
    if (result.identity.has_value() == !result.error.empty()) {
        std::abort();
    }
    if (result.identity && result.identity->subject.empty()) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    huddle::auth::VerifyResult result;
    switch (data[0] % 3) {
        case 0:
            result = verifier().verify(rest, kNow);
            // Nobody holds the keys here, so raw bytes must never be accepted.
            if (result.identity) {
                std::abort();
            }
            break;
        case 1:
            result = verifier().verify(hs256_token(R"({"alg":"HS256"})", rest), kNow);
            break;
        default:
            result = verifier().verify(
                hs256_token(rest, R"({"sub":"u","iss":"fuzz-issuer","aud":"fuzz-audience"})"),
                kNow);
            break;
    }
    check_invariants(result);
    return 0;
}
