// Signatures:
//  - HS256/HS384/HS512 go through cpp-jwt (HMACSign<>), behind the small wrapper below, and are
//    compared in constant time here.
//  - RS256 and ES256 call OpenSSL's EVP_DigestVerify directly on EVP_PKEY objects parsed once in
//    the constructor. This is for speed: cpp-jwt's PEMSign<>::verify takes the PEM text and
//    re-parses the key on every call, which made a whole verify() cost ~270 us for RS256 and
//    ~320 us for ES256, against ~18 us and ~46 us with the key parsed once (OpenSSL's bare
//    RSA-2048 verify is ~13 us, P-256 ~42 us); a token is verified on every WebSocket handshake.
//
// Thread safety: the parsed keys are never modified after construction. In OpenSSL 3 an EVP_PKEY
// may be shared read-only between threads as long as each thread uses its own EVP_MD_CTX /
// EVP_PKEY_CTX (openssl-threads(7)); the internal caches that EVP_DigestVerifyInit may fill in a
// key (the provider export cache) are updated under the key's own lock. Each verification below
// creates its own EVP_MD_CTX, so verify() is safe to call concurrently on one const JwtVerifier.

#include "auth/jwt_verifier.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

// Only cpp-jwt's HMAC primitive is used: its decoder reads the clock itself (we are given `now`),
// asserts on non-ASCII base64 input and throws from its error-code overloads, so token parsing and
// claim checks are done here and cpp-jwt only ever sees validated input.
#include <jwt/algorithm.hpp>

namespace huddle::auth {

// ---------------------------------------------------------------------------------------------
// Parsed public keys, owned by JwtVerifier and read-only after its constructor.

namespace detail {

struct EvpPkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PublicKey = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// Big-endian byte size of a P-256 scalar (r, s, the group order).
inline constexpr std::size_t kP256ScalarBytes = 32;

struct JwtPublicKeys {
    PublicKey rsa;  // RS256: RSA (not RSA-PSS), at least 2048 bits; null if not configured
    PublicKey ec;   // ES256: EC on P-256; null if not configured
    std::array<unsigned char, kP256ScalarBytes> p256_order{};  // set when `ec` is
};

}  // namespace detail

namespace {

using detail::JwtPublicKeys;
using detail::kP256ScalarBytes;
using detail::PublicKey;

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
// Keys (parsed and checked once at construction so that a bad configuration fails at start-up)

PublicKey read_public_key(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    PublicKey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    // Failed parses leave entries on this thread's OpenSSL error queue, where TLS code on the
    // same thread would later find them.
    ERR_clear_error();
    return key;
}

PublicKey load_rsa_public_key(const std::string& pem) {
    PublicKey key = read_public_key(pem);
    if (!key) {
        throw std::invalid_argument(
            "RS256 public key is not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")");
    }
    // RS256 is PKCS#1 v1.5: exactly EVP_PKEY_RSA, not RSA-PSS keys.
    if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_RSA) {
        throw std::invalid_argument("RS256 public key is not an RSA key");
    }
    if (EVP_PKEY_get_bits(key.get()) < 2048) {
        throw std::invalid_argument("RS256 public key is shorter than 2048 bits (RFC 7518 §3.3)");
    }
    return key;
}

PublicKey load_ec_public_key(const std::string& pem) {
    PublicKey key = read_public_key(pem);
    if (!key) {
        throw std::invalid_argument(
            "ES256 public key is not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")");
    }
    if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_EC) {
        throw std::invalid_argument("ES256 public key is not an EC key");
    }
    // ES256 means P-256; OpenSSL would otherwise verify SHA-256 signatures on any curve.
    std::array<char, 64> curve_name{};
    std::size_t curve_name_length = 0;
    if (EVP_PKEY_get_group_name(key.get(), curve_name.data(), curve_name.size(),
                                &curve_name_length) != 1 ||
        std::string_view(curve_name.data(), curve_name_length) != "prime256v1") {
        ERR_clear_error();
        throw std::invalid_argument("ES256 public key is not on curve P-256");
    }
    return key;
}

// The order n of P-256, big-endian: ES256 scalars r and s must lie in [1, n - 1].
std::array<unsigned char, kP256ScalarBytes> p256_order() {
    std::unique_ptr<EC_GROUP, decltype(&EC_GROUP_free)> group(
        EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1), &EC_GROUP_free);
    std::array<unsigned char, kP256ScalarBytes> order{};
    if (!group || BN_bn2binpad(EC_GROUP_get0_order(group.get()), order.data(),
                               static_cast<int>(order.size())) != static_cast<int>(order.size())) {
        ERR_clear_error();
        throw std::runtime_error("OpenSSL cannot provide the P-256 group");
    }
    return order;
}

// Validates the settings and parses the public keys they name.
JwtPublicKeys check_settings(const JwtSettings& settings) {
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
    JwtPublicKeys keys;
    if (!settings.rsa_public_key_pem.empty()) {
        keys.rsa = load_rsa_public_key(settings.rsa_public_key_pem);
    }
    if (!settings.ec_public_key_pem.empty()) {
        keys.ec = load_ec_public_key(settings.ec_public_key_pem);
        keys.p256_order = p256_order();
    }
    if (settings.leeway.count() < 0) {
        throw std::invalid_argument("JWT leeway must not be negative");
    }
    return keys;
}

// ---------------------------------------------------------------------------------------------
// Signatures: HMAC through cpp-jwt, RSA and ECDSA through OpenSSL EVP on the pre-parsed keys

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

const unsigned char* as_bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

// SHA-256 signature check of `data` with `key` (read only). rsa_padding is RSA_PKCS1_PADDING for
// RSA keys and 0 for EC keys. The EVP_MD_CTX (and the EVP_PKEY_CTX it owns) belong to this call
// alone, which is what makes concurrent calls on one key safe.
bool sha256_signature_matches(EVP_PKEY* key, int rsa_padding, std::string_view data,
                              const unsigned char* signature, std::size_t signature_size) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;  // owned by `context`
    const bool matches =
        context &&
        EVP_DigestVerifyInit(context.get(), &key_context, EVP_sha256(), nullptr, key) == 1 &&
        (rsa_padding == 0 || EVP_PKEY_CTX_set_rsa_padding(key_context, rsa_padding) == 1) &&
        EVP_DigestVerify(context.get(), signature, signature_size, as_bytes(data), data.size()) ==
            1;
    ERR_clear_error();  // a failed verification leaves OpenSSL errors on this thread's queue
    return matches;
}

// RS256 (RFC 7518 §3.3): RSASSA-PKCS1-v1_5 with SHA-256; the signature is exactly modulus-sized.
bool rs256_signature_matches(EVP_PKEY* key, std::string_view data, std::string_view signature) {
    if (key == nullptr || signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key))) {
        return false;
    }
    return sha256_signature_matches(key, RSA_PKCS1_PADDING, data, as_bytes(signature),
                                    signature.size());
}

// True when the 32-byte big-endian scalar is in [1, order - 1]. Signatures are public, so the
// comparison need not be constant-time.
bool is_p256_scalar_in_range(const unsigned char* scalar,
                             const std::array<unsigned char, kP256ScalarBytes>& order) {
    const bool is_zero =
        std::all_of(scalar, scalar + kP256ScalarBytes, [](unsigned char b) { return b == 0; });
    return !is_zero && std::memcmp(scalar, order.data(), kP256ScalarBytes) < 0;
}

// DER SEQUENCE of two INTEGERs of at most 33 bytes each: 2 + 2 * (2 + 33) = 72.
constexpr std::size_t kMaxP256DerSignatureBytes = 72;

// JWS carries ECDSA signatures as the raw 64-byte r || s (RFC 7518 §3.4); OpenSSL wants DER.
// Returns the DER length written to `der`, or 0 when the signature is refused.
std::size_t p256_raw_signature_to_der(std::string_view raw,
                                      const std::array<unsigned char, kP256ScalarBytes>& order,
                                      std::array<unsigned char, kMaxP256DerSignatureBytes>& der) {
    if (raw.size() != 2 * kP256ScalarBytes) {
        return 0;
    }
    const unsigned char* r_bytes = as_bytes(raw);
    const unsigned char* s_bytes = r_bytes + kP256ScalarBytes;
    // OpenSSL's verify refuses these too; checking here keeps that guarantee explicit.
    if (!is_p256_scalar_in_range(r_bytes, order) || !is_p256_scalar_in_range(s_bytes, order)) {
        return 0;
    }
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> signature(ECDSA_SIG_new(),
                                                                    &ECDSA_SIG_free);
    std::unique_ptr<BIGNUM, decltype(&BN_free)> r(BN_bin2bn(r_bytes, kP256ScalarBytes, nullptr),
                                                  &BN_free);
    std::unique_ptr<BIGNUM, decltype(&BN_free)> s(BN_bin2bn(s_bytes, kP256ScalarBytes, nullptr),
                                                  &BN_free);
    if (!signature || !r || !s || ECDSA_SIG_set0(signature.get(), r.get(), s.get()) != 1) {
        return 0;
    }
    static_cast<void>(r.release());  // owned by `signature` now
    static_cast<void>(s.release());
    const int length = i2d_ECDSA_SIG(signature.get(), nullptr);
    if (length <= 0 || static_cast<std::size_t>(length) > der.size()) {
        return 0;
    }
    unsigned char* out = der.data();
    return i2d_ECDSA_SIG(signature.get(), &out) == length ? static_cast<std::size_t>(length) : 0;
}

// ES256 (RFC 7518 §3.4): ECDSA on P-256 with SHA-256.
bool es256_signature_matches(const JwtPublicKeys& keys, std::string_view data,
                             std::string_view signature) {
    if (!keys.ec) {
        return false;
    }
    std::array<unsigned char, kMaxP256DerSignatureBytes> der{};
    const std::size_t der_size = p256_raw_signature_to_der(signature, keys.p256_order, der);
    if (der_size == 0) {
        ERR_clear_error();  // a failed BN or ASN.1 call may have left errors
        return false;
    }
    return sha256_signature_matches(keys.ec.get(), 0, data, der.data(), der_size);
}

// The key is chosen by the token's algorithm alone: HS* only ever sees the HMAC secret, so a
// public key can never be (ab)used as an HMAC secret.
bool signature_matches(Algorithm algorithm, const JwtSettings& settings, const JwtPublicKeys& keys,
                       const TokenParts& parts) {
    // The signature must be canonical base64url: a lenient decoder would ignore the unused low
    // bits of the last digit and let one signature be written several ways.
    const auto signature = base64url_decode(parts.signature);
    if (!signature) {
        return false;
    }
    switch (algorithm) {
        case Algorithm::HS256:
        case Algorithm::HS384:
        case Algorithm::HS512:
            return hmac_signature_matches(algorithm, settings.hmac_secret, parts);
        case Algorithm::RS256:
            return rs256_signature_matches(keys.rsa.get(), parts.signing_input, *signature);
        case Algorithm::ES256:
            return es256_signature_matches(keys, parts.signing_input, *signature);
    }
    return false;
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

VerifyResult verify_token(std::string_view token, std::int64_t now, const JwtSettings& settings,
                          const JwtPublicKeys& keys) {
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
    if (!signature_matches(algorithm, settings, keys, *parts)) {
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

JwtVerifier::JwtVerifier(JwtSettings settings)
    : settings_(std::move(settings)),
      keys_(std::make_unique<const JwtPublicKeys>(check_settings(settings_))) {}

// Frees the parsed keys (EVP_PKEY_free through JwtPublicKeys' members).
JwtVerifier::~JwtVerifier() = default;

VerifyResult JwtVerifier::verify(std::string_view token, std::int64_t now_seconds) const {
    try {
        return verify_token(token, now_seconds, settings_, *keys_);
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
