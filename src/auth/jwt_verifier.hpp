#pragma once

// JWT verification and (HS*) minting. cpp-jwt and OpenSSL stay inside jwt_verifier.cpp so that
// the rest of the code base compiles against Boost.JSON only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace huddle::auth {

struct JwtSettings {
    // Allow-list of accepted `alg` header values: any of HS256 HS384 HS512 RS256 ES256.
    std::vector<std::string> algorithms{"HS256"};
    std::string hmac_secret;  // used for HS* only
    std::string
        rsa_public_key_pem;         // used for RS256 only ("BEGIN PUBLIC KEY" PEM text, not a path)
    std::string ec_public_key_pem;  // used for ES256 only (P-256, "BEGIN PUBLIC KEY" PEM text)
    std::string issuer;             // empty = not checked
    std::string audience;           // empty = not checked
    std::chrono::seconds leeway{30};  // clock skew tolerated for exp and nbf
};

struct Identity {
    // The "sub" claim; a string "userId" claim is accepted when "sub" is absent.
    std::string subject;
    boost::json::object claims;              // every claim of the payload
    std::optional<std::int64_t> expires_at;  // exp, seconds since the epoch
};

struct VerifyResult {
    std::optional<Identity> identity;  // set when the token is valid
    std::string error;                 // short message when not; never contains the token
};

namespace detail {
struct JwtPublicKeys;  // the parsed RS256/ES256 keys; defined in jwt_verifier.cpp
}  // namespace detail

// Immutable after construction: verify() may be called concurrently from many threads.
// Owns parsed OpenSSL keys, so it is neither copyable nor movable (hold it by unique_ptr).
class JwtVerifier {
  public:
    // Throws std::invalid_argument when the settings cannot work (unknown algorithm, HS* without
    // a secret, RS256/ES256 without a usable public key, negative leeway, ...). The public keys
    // are parsed here, once.
    explicit JwtVerifier(JwtSettings settings);
    ~JwtVerifier();

    JwtVerifier(const JwtVerifier&) = delete;
    JwtVerifier& operator=(const JwtVerifier&) = delete;

    // Never throws. now_seconds is the current time in seconds since the epoch.
    VerifyResult verify(std::string_view token, std::int64_t now_seconds) const;

    const JwtSettings& settings() const { return settings_; }

  private:
    JwtSettings settings_;
    std::unique_ptr<const detail::JwtPublicKeys> keys_;
};

// Largest token verify() looks at; anything longer is refused unread.
inline constexpr std::size_t kMaxTokenBytes = 16 * 1024;

// Signs a token with HS256, HS384 or HS512 carrying sub, iat, exp (= now + ttl) and the extra
// claims (with their JSON types; sub/iat/exp win over extra claims of the same name).
// Throws std::invalid_argument for another algorithm or an empty secret.
std::string mint_hs_token(std::string_view algorithm, std::string_view secret,
                          std::string_view subject, const boost::json::object& extra_claims,
                          std::chrono::seconds ttl, std::int64_t now_seconds);

}  // namespace huddle::auth
