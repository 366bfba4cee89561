// Micro-benchmark of JwtVerifier::verify for valid HS256, RS256 and ES256 tokens: the cost paid
// once per WebSocket handshake that carries a JWT.
//
//   build/<release-dir>/bench/huddle-micro-bench --benchmark_filter=JwtVerify

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <boost/json/object.hpp>

#include "auth/jwt_verifier.hpp"

namespace {

using huddle::auth::JwtSettings;
using huddle::auth::JwtVerifier;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::string_view kSecret = "bench-secret-0123456789abcdef0123456789abcdef";
constexpr std::string_view kPayload =
    R"({"sub":"user-1","iat":1700000000,"exp":1700003600,"firmId":"firm-42"})";

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string base64url(std::string_view bytes) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char byte : bytes) {
        buffer = (buffer << 8) | static_cast<unsigned char>(byte);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(buffer >> bits) & 0x3FU]);
        }
    }
    if (bits > 0) {
        out.push_back(alphabet[(buffer << (6 - bits)) & 0x3FU]);
    }
    return out;
}

std::string public_key_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
        throw std::runtime_error("PEM_write_bio_PUBKEY failed");
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::string digest_sign(EVP_PKEY* key, std::string_view data) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t length = 0;
    if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(context.get(), nullptr, &length, bytes, data.size()) != 1) {
        throw std::runtime_error("EVP_DigestSign failed");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       bytes, data.size()) != 1) {
        throw std::runtime_error("EVP_DigestSign failed");
    }
    signature.resize(length);
    return signature;
}

// OpenSSL signs ECDSA as DER; JWS (RFC 7518 §3.4) wants the raw 32-byte r and s.
std::string der_to_raw_p256(const std::string& der) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> signature(
        d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())), &ECDSA_SIG_free);
    if (!signature) {
        throw std::runtime_error("d2i_ECDSA_SIG failed");
    }
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(signature.get(), &r, &s);
    std::string raw(64, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(r, out, 32) != 32 || BN_bn2binpad(s, out + 32, 32) != 32) {
        throw std::runtime_error("BN_bn2binpad failed");
    }
    return raw;
}

std::string signed_token(std::string_view algorithm, EVP_PKEY* key) {
    const std::string input =
        base64url(R"({"alg":")" + std::string(algorithm) + R"(","typ":"JWT"})") + "." +
        base64url(kPayload);
    std::string signature = digest_sign(key, input);
    if (algorithm == "ES256") {
        signature = der_to_raw_p256(signature);
    }
    return input + "." + base64url(signature);
}

struct Fixture {
    Key rsa{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}), &EVP_PKEY_free};
    Key ec{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free};
    JwtVerifier verifier{settings()};
    std::string hs256 = huddle::auth::mint_hs_token(
        "HS256", kSecret, "user-1", {{"firmId", "firm-42"}}, std::chrono::hours(1), kNow);
    std::string rs256 = signed_token("RS256", rsa.get());
    std::string es256 = signed_token("ES256", ec.get());

    JwtSettings settings() const {
        JwtSettings result;
        result.algorithms = {"HS256", "RS256", "ES256"};
        result.hmac_secret = std::string(kSecret);
        result.rsa_public_key_pem = public_key_pem(rsa.get());
        result.ec_public_key_pem = public_key_pem(ec.get());
        return result;
    }
};

const Fixture& fixture() {
    static const Fixture instance;
    return instance;
}

void verify_loop(benchmark::State& state, const std::string& token) {
    const JwtVerifier& verifier = fixture().verifier;
    const auto check = verifier.verify(token, kNow);
    if (!check.identity) {
        state.SkipWithError(("token refused: " + check.error).c_str());
        return;
    }
    for (auto _ : state) {
        auto result = verifier.verify(token, kNow);
        benchmark::DoNotOptimize(result);
    }
}

void BM_JwtVerifyHS256(benchmark::State& state) {
    verify_loop(state, fixture().hs256);
}
void BM_JwtVerifyRS256(benchmark::State& state) {
    verify_loop(state, fixture().rs256);
}
void BM_JwtVerifyES256(benchmark::State& state) {
    verify_loop(state, fixture().es256);
}

BENCHMARK(BM_JwtVerifyHS256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JwtVerifyRS256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JwtVerifyES256)->Unit(benchmark::kMicrosecond);

}  // namespace
