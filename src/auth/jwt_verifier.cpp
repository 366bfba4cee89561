#include "auth/jwt_verifier.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

// Only cpp-jwt's signing/verifying primitives are used: its decoder reads the clock itself (we are
// given `now`), asserts on non-ASCII base64 input and throws from its error-code overloads, so
// token parsing and claim checks are done here and cpp-jwt only ever sees validated input.
#include <jwt/algorithm.hpp>

namespace huddle::auth {
namespace {

// ---------------------------------------------------------------------------------------------
// Algorithms

enum class Algorithm { HS256, HS384, HS512, RS256, ES256 };

constexpr std::array<std::pair<std::string_view, Algorithm>, 5> kAlgorithmNames{{
    {"HS256", Algorithm::HS256},
    {"HS384", Algorithm::HS384},
    {"HS512", Algorithm::HS512},
    {"RS256", Algorithm::RS256},
    {"ES256", Algorithm::ES256},
}};

// Exact, case-sensitive match: "none", "hs256" and friends are simply unknown.
std::optional<Algorithm> algorithm_from_name(std::string_view name) {
    for (const auto& [known_name, algorithm] : kAlgorithmNames) {
        if (known_name == name) {
            return algorithm;
        }
    }
    return std::nullopt;
}

bool is_hmac(Algorithm algorithm) {
    return algorithm == Algorithm::HS256 || algorithm == Algorithm::HS384 ||
           algorithm == Algorithm::HS512;
}

// ---------------------------------------------------------------------------------------------
// base64url (RFC 4648 §5, no padding), strict: a token is refused rather than "repaired".

constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64url_digit(char character) {
    if (character >= 'A' && character <= 'Z') {
        return character - 'A';
    }
    if (character >= 'a' && character <= 'z') {
        return character - 'a' + 26;
    }
    if (character >= '0' && character <= '9') {
        return character - '0' + 52;
    }
    if (character == '-') {
        return 62;
    }
    if (character == '_') {
        return 63;
    }
    return -1;
}

bool is_base64url(std::string_view text) {
    return text.size() % 4 != 1 &&
           std::all_of(text.begin(), text.end(), [](char c) { return base64url_digit(c) >= 0; });
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (!is_base64url(text)) {
        return std::nullopt;
    }
    std::string bytes;
    bytes.reserve(text.size() * 3 / 4);
    std::uint32_t buffer = 0;
    int buffered_bits = 0;
    for (char character : text) {
        buffer = (buffer << 6) | static_cast<std::uint32_t>(base64url_digit(character));
        buffered_bits += 6;
        if (buffered_bits >= 8) {
            buffered_bits -= 8;
            bytes.push_back(static_cast<char>((buffer >> buffered_bits) & 0xFFU));
        }
    }
    // Leftover bits must be zero, so that every byte string has exactly one encoding.
    if ((buffer & ((1U << buffered_bits) - 1U)) != 0) {
        return std::nullopt;
    }
    return bytes;
}

std::string base64url_encode(std::string_view bytes) {
    std::string text;
    text.reserve((bytes.size() * 4 + 2) / 3);
    std::uint32_t buffer = 0;
    int buffered_bits = 0;
    for (char byte : bytes) {
        buffer = (buffer << 8) | static_cast<unsigned char>(byte);
        buffered_bits += 8;
        while (buffered_bits >= 6) {
            buffered_bits -= 6;
            text.push_back(kBase64UrlAlphabet[(buffer >> buffered_bits) & 0x3FU]);
        }
    }
    if (buffered_bits > 0) {
        text.push_back(kBase64UrlAlphabet[(buffer << (6 - buffered_bits)) & 0x3FU]);
    }
    return text;
}

// ---------------------------------------------------------------------------------------------
// Token structure

struct TokenParts {
    std::string_view header;
    std::string_view payload;
    std::string_view signature;
    std::string_view signing_input;  // "header.payload", what the signature covers
};

std::optional<TokenParts> split_token(std::string_view token) {
    const auto first_dot = token.find('.');
    if (first_dot == std::string_view::npos) {
        return std::nullopt;
    }
    const auto second_dot = token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos ||
        token.find('.', second_dot + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    TokenParts parts{
        token.substr(0, first_dot),
        token.substr(first_dot + 1, second_dot - first_dot - 1),
        token.substr(second_dot + 1),
        token.substr(0, second_dot),
    };
    if (parts.header.empty() || parts.payload.empty() || parts.signature.empty()) {
        return std::nullopt;
    }
    return parts;
}

std::optional<boost::json::object> decode_json_object(std::string_view encoded) {
    const auto text = base64url_decode(encoded);
    if (!text) {
        return std::nullopt;
    }
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(*text, error);
    if (error || !value.is_object()) {
        return std::nullopt;
    }
    return std::move(value.as_object());
}

// ---------------------------------------------------------------------------------------------
// Keys (checked once at construction so that a bad configuration fails at start-up)

using PublicKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

PublicKey read_public_key(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    PublicKey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr,
                  &EVP_PKEY_free);
    // Failed parses leave entries on this thread's OpenSSL error queue, where TLS code on the
    // same thread would later find them.
    ERR_clear_error();
    return key;
}

void check_rsa_public_key(const std::string& pem) {
    const PublicKey key = read_public_key(pem);
    if (!key) {
        throw std::invalid_argument(
            "RS256 public key is not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")");
    }
    // cpp-jwt accepts exactly EVP_PKEY_RSA for RS256 (not RSA-PSS keys).
    if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_RSA) {
        throw std::invalid_argument("RS256 public key is not an RSA key");
    }
    if (EVP_PKEY_get_bits(key.get()) < 2048) {
        throw std::invalid_argument("RS256 public key is shorter than 2048 bits (RFC 7518 §3.3)");
    }
}

void check_ec_public_key(const std::string& pem) {
    const PublicKey key = read_public_key(pem);
    if (!key) {
        throw std::invalid_argument(
            "ES256 public key is not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")");
    }
    if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_EC) {
        throw std::invalid_argument("ES256 public key is not an EC key");
    }
    // ES256 means P-256; cpp-jwt would otherwise verify SHA-256 signatures on any curve.
    std::array<char, 64> curve_name{};
    std::size_t curve_name_length = 0;
    if (EVP_PKEY_get_group_name(key.get(), curve_name.data(), curve_name.size(),
                                &curve_name_length) != 1 ||
        std::string_view(curve_name.data(), curve_name_length) != "prime256v1") {
        ERR_clear_error();
        throw std::invalid_argument("ES256 public key is not on curve P-256");
    }
}

void check_settings(const JwtSettings& settings) {
    if (settings.algorithms.empty()) {
        throw std::invalid_argument("JWT algorithm list is empty");
    }
    for (const auto& name : settings.algorithms) {
        const auto algorithm = algorithm_from_name(name);
        if (!algorithm) {
            throw std::invalid_argument("unknown or unsupported JWT algorithm '" + name +
                                        "' (supported: HS256 HS384 HS512 RS256 ES256)");
        }
        if (is_hmac(*algorithm) && settings.hmac_secret.empty()) {
            throw std::invalid_argument(name + " is allowed but no HMAC secret is set");
        }
        if (*algorithm == Algorithm::RS256 && settings.rsa_public_key_pem.empty()) {
            throw std::invalid_argument("RS256 is allowed but no RSA public key is set");
        }
        if (*algorithm == Algorithm::ES256 && settings.ec_public_key_pem.empty()) {
            throw std::invalid_argument("ES256 is allowed but no EC public key is set");
        }
    }
    // A key that is given is checked even if its algorithm is not allowed: it is a config mistake.
    if (!settings.rsa_public_key_pem.empty()) {
        check_rsa_public_key(settings.rsa_public_key_pem);
    }
    if (!settings.ec_public_key_pem.empty()) {
        check_ec_public_key(settings.ec_public_key_pem);
    }
    if (settings.leeway.count() < 0) {
        throw std::invalid_argument("JWT leeway must not be negative");
    }
}

// ---------------------------------------------------------------------------------------------
// Signatures (computed by cpp-jwt over OpenSSL)

// Raw MAC bytes; empty if OpenSSL failed.
std::string hmac(Algorithm algorithm, std::string_view secret, std::string_view data) {
    jwt::sign_result_t result;
    switch (algorithm) {
        case Algorithm::HS256:
            result = jwt::HMACSign<jwt::algo::HS256>::sign(secret, data);
            break;
        case Algorithm::HS384:
            result = jwt::HMACSign<jwt::algo::HS384>::sign(secret, data);
            break;
        case Algorithm::HS512:
            result = jwt::HMACSign<jwt::algo::HS512>::sign(secret, data);
            break;
        default:
            return {};
    }
    return result.second ? std::string{} : std::move(result.first);
}

// cpp-jwt's own HMAC verify compares with ==, which leaks timing; compare in constant time.
bool hmac_signature_matches(Algorithm algorithm, const std::string& secret,
                            const TokenParts& parts) {
    const std::string expected = base64url_encode(hmac(algorithm, secret, parts.signing_input));
    return !expected.empty() && expected.size() == parts.signature.size() &&
           CRYPTO_memcmp(expected.data(), parts.signature.data(), expected.size()) == 0;
}

// cpp-jwt parses the PEM on every call; that keeps it free of shared mutable state.
bool public_key_signature_matches(Algorithm algorithm, const JwtSettings& settings,
                                  const TokenParts& parts) {
    jwt::verify_result_t result{false, {}};
    if (algorithm == Algorithm::RS256) {
        result = jwt::PEMSign<jwt::algo::RS256>::verify(settings.rsa_public_key_pem,
                                                        parts.signing_input, parts.signature);
    } else if (algorithm == Algorithm::ES256) {
        result = jwt::PEMSign<jwt::algo::ES256>::verify(settings.ec_public_key_pem,
                                                        parts.signing_input, parts.signature);
    }
    ERR_clear_error();  // a failed verification leaves OpenSSL errors on this thread's queue
    return result.first && !result.second;
}

// The key is chosen by the token's algorithm alone: HS* only ever sees the HMAC secret, so a
// public key can never be (ab)used as an HMAC secret.
bool signature_matches(Algorithm algorithm, const JwtSettings& settings, const TokenParts& parts) {
    // The signature must be canonical base64url before cpp-jwt decodes it: its decoder asserts
    // on bytes outside the alphabet and ignores the unused low bits of the last digit, which
    // would let one signature be written several ways.
    if (!base64url_decode(parts.signature)) {
        return false;
    }
    if (is_hmac(algorithm)) {
        return hmac_signature_matches(algorithm, settings.hmac_secret, parts);
    }
    return public_key_signature_matches(algorithm, settings, parts);
}

// ---------------------------------------------------------------------------------------------
// Claims

constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();

// NumericDate (RFC 7519 §2): any JSON number; fractions are floored, extremes saturate.
std::optional<std::int64_t> numeric_date(const boost::json::value& value) {
    if (value.is_int64()) {
        return value.get_int64();
    }
    if (value.is_uint64()) {
        return kMaxTime;  // only values above int64 max are stored as uint64
    }
    if (value.is_double()) {
        const double seconds = std::floor(value.get_double());
        if (std::isnan(seconds)) {
            return std::nullopt;
        }
        if (seconds >= 9.2e18) {
            return kMaxTime;
        }
        if (seconds <= -9.2e18) {
            return kMinTime;
        }
        return static_cast<std::int64_t>(seconds);
    }
    return std::nullopt;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) {
        return b > 0 ? kMaxTime : kMinTime;
    }
    return sum;
}

const boost::json::value* find_claim(const boost::json::object& claims, std::string_view name) {
    return claims.if_contains(name);
}

bool audience_matches(const boost::json::value& claim, std::string_view expected) {
    if (claim.is_string()) {
        return claim.get_string() == expected;
    }
    if (claim.is_array()) {
        const auto& audiences = claim.get_array();
        return std::any_of(audiences.begin(), audiences.end(), [&](const boost::json::value& v) {
            return v.is_string() && v.get_string() == expected;
        });
    }
    return false;
}

VerifyResult fail(std::string message) {
    return VerifyResult{std::nullopt, std::move(message)};
}

// Checks exp and nbf; fills expires_at. Returns an error message, empty when the times are fine.
std::string check_times(const boost::json::object& claims, std::int64_t now, std::int64_t leeway,
                        std::optional<std::int64_t>& expires_at) {
    if (const auto* exp = find_claim(claims, "exp")) {
        expires_at = numeric_date(*exp);
        if (!expires_at) {
            return "invalid exp claim";
        }
        // RFC 7519 §4.1.4: the current time must be before exp.
        if (now >= saturating_add(*expires_at, leeway)) {
            return "token expired";
        }
    }
    if (const auto* nbf = find_claim(claims, "nbf")) {
        const auto not_before = numeric_date(*nbf);
        if (!not_before) {
            return "invalid nbf claim";
        }
        if (saturating_add(now, leeway) < *not_before) {
            return "token not yet valid";
        }
    }
    return {};
}

std::string check_issuer_and_audience(const boost::json::object& claims,
                                      const JwtSettings& settings) {
    if (!settings.issuer.empty()) {
        const auto* iss = find_claim(claims, "iss");
        if (iss == nullptr || !iss->is_string() || iss->get_string() != settings.issuer) {
            return "issuer mismatch";
        }
    }
    if (!settings.audience.empty()) {
        const auto* aud = find_claim(claims, "aud");
        if (aud == nullptr || !audience_matches(*aud, settings.audience)) {
            return "audience mismatch";
        }
    }
    return {};
}

// "sub", or for apps that use it a string "userId" when "sub" is absent. Empty on failure, with
// the reason in `error`.
std::string find_subject(const boost::json::object& claims, std::string& error) {
    const auto* sub = find_claim(claims, "sub");
    if (sub == nullptr) {
        sub = find_claim(claims, "userId");
    }
    if (sub == nullptr) {
        error = "missing subject";
        return {};
    }
    if (!sub->is_string() || sub->get_string().empty()) {
        error = "invalid subject";
        return {};
    }
    return std::string(sub->get_string());
}

// Header checks that do not depend on the key. Sets `algorithm` on success.
std::string check_header(const boost::json::object& header, const JwtSettings& settings,
                         Algorithm& algorithm) {
    const auto* alg = find_claim(header, "alg");
    if (alg == nullptr || !alg->is_string()) {
        return "malformed token";
    }
    const std::string_view alg_name = alg->get_string();
    const bool allowed = std::find(settings.algorithms.begin(), settings.algorithms.end(),
                                   alg_name) != settings.algorithms.end();
    const auto known = algorithm_from_name(alg_name);
    // "none" is never in the list (the constructor refuses it), so unsigned tokens end here.
    if (!allowed || !known) {
        return "algorithm not allowed";
    }
    // RFC 7515 §4.1.11: extensions we do not implement must make the token invalid.
    if (header.contains("crit")) {
        return "unsupported critical header";
    }
    algorithm = *known;
    return {};
}

VerifyResult verify_token(std::string_view token, std::int64_t now, const JwtSettings& settings) {
    if (token.size() > kMaxTokenBytes) {
        return fail("token too large");
    }
    const auto parts = split_token(token);
    if (!parts) {
        return fail("malformed token");
    }
    const auto header = decode_json_object(parts->header);
    if (!header) {
        return fail("malformed token");
    }
    Algorithm algorithm{};
    if (auto error = check_header(*header, settings, algorithm); !error.empty()) {
        return fail(std::move(error));
    }
    // Signature before payload: nothing the payload says is looked at until it is authentic.
    if (!signature_matches(algorithm, settings, *parts)) {
        return fail("invalid signature");
    }
    auto claims = decode_json_object(parts->payload);
    if (!claims) {
        return fail("malformed token");
    }
    Identity identity;
    if (auto error = check_times(*claims, now, settings.leeway.count(), identity.expires_at);
        !error.empty()) {
        return fail(std::move(error));
    }
    if (auto error = check_issuer_and_audience(*claims, settings); !error.empty()) {
        return fail(std::move(error));
    }
    std::string error;
    identity.subject = find_subject(*claims, error);
    if (!error.empty()) {
        return fail(std::move(error));
    }
    identity.claims = std::move(*claims);
    return VerifyResult{std::move(identity), {}};
}

}  // namespace

JwtVerifier::JwtVerifier(JwtSettings settings) : settings_(std::move(settings)) {
    check_settings(settings_);
}

VerifyResult JwtVerifier::verify(std::string_view token, std::int64_t now_seconds) const {
    try {
        return verify_token(token, now_seconds, settings_);
    } catch (const std::bad_alloc&) {
        return fail("out of memory while verifying token");
    } catch (...) {
        // cpp-jwt documents MemoryAllocationException; anything else is a bug, still no throw.
        return fail("token could not be verified");
    }
}

std::string mint_hs_token(std::string_view algorithm, std::string_view secret,
                          std::string_view subject, const boost::json::object& extra_claims,
                          std::chrono::seconds ttl, std::int64_t now_seconds) {
    const auto known = algorithm_from_name(algorithm);
    if (!known || !is_hmac(*known)) {
        throw std::invalid_argument("mint_hs_token needs HS256, HS384 or HS512");
    }
    if (secret.empty()) {
        throw std::invalid_argument("mint_hs_token needs a non-empty secret");
    }
    boost::json::object header;
    header["alg"] = algorithm;
    header["typ"] = "JWT";

    boost::json::object claims = extra_claims;
    claims["sub"] = subject;
    claims["iat"] = now_seconds;
    claims["exp"] = saturating_add(now_seconds, ttl.count());

    std::string token = base64url_encode(boost::json::serialize(header)) + '.' +
                        base64url_encode(boost::json::serialize(claims));
    const std::string mac = hmac(*known, secret, token);
    if (mac.empty()) {
        throw std::runtime_error("HMAC computation failed");
    }
    token += '.';
    token += base64url_encode(mac);
    return token;
}

}  // namespace huddle::auth
