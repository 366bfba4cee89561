// huddle-yjs-tool: the Huddle Yjs engine on the command line, for the differential checker.
//
//   huddle-yjs-tool CMD ARG...      one command, result on stdout
//   huddle-yjs-tool                 one command per line on stdin, one result line each
//
// Commands (arguments are hex, or base64 with a "b64:" prefix):
//   merge U1 U2 ...   Y.mergeUpdates
//   sv U              Y.encodeStateVectorFromUpdate
//   diff U SV         Y.diffUpdate
//   check U           decode only (validation)
// Result line: "ok HEX" or "error MESSAGE".
#include "yjs/yjs.hpp"

#include <cstdint>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using huddle::yjs::Bytes;

std::optional<Bytes> from_hex(const std::string& s) {
    if (s.size() % 2 != 0) {
        return std::nullopt;
    }
    Bytes out;
    out.reserve(s.size() / 2);
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); i += 2) {
        const int hi = nibble(s[i]);
        const int lo = nibble(s[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    return out;
}

std::optional<Bytes> from_base64(const std::string& s) {
    Bytes out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : s) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == '+' || c == '-') {
            v = 62;
        } else if (c == '/' || c == '_') {
            v = 63;
        } else if (c == '=') {
            break;
        } else {
            return std::nullopt;
        }
        acc = (acc << 6U) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> static_cast<unsigned>(bits)) & 0xffU));
        }
    }
    return out;
}

std::optional<Bytes> decode_arg(const std::string& s) {
    if (s.rfind("b64:", 0) == 0) {
        return from_base64(s.substr(4));
    }
    return from_hex(s);
}

std::string to_hex(const Bytes& b) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(b.size() * 2);
    for (std::uint8_t c : b) {
        out.push_back(kHex[c >> 4U]);
        out.push_back(kHex[c & 15U]);
    }
    return out;
}

std::string run(const std::vector<std::string>& words) {
    if (words.empty()) {
        return "error empty command";
    }
    std::vector<Bytes> args;
    for (std::size_t i = 1; i < words.size(); ++i) {
        auto b = decode_arg(words[i]);
        if (!b) {
            return "error bad hex/base64 argument " + std::to_string(i);
        }
        args.push_back(std::move(*b));
    }
    const auto answer = [](const huddle::yjs::Result<Bytes>& r) {
        return r ? "ok " + to_hex(*r) : "error " + r.error().message;
    };
    const std::string& cmd = words[0];
    if (cmd == "merge") {
        return answer(huddle::yjs::merge_updates(args));
    }
    if (cmd == "sv" && args.size() == 1) {
        return answer(huddle::yjs::encode_state_vector_from_update(args[0]));
    }
    if (cmd == "diff" && args.size() == 2) {
        return answer(huddle::yjs::diff_update(args[0], args[1]));
    }
    if (cmd == "check" && args.size() == 1) {
        auto d = huddle::yjs::decode_update(args[0]);
        return d ? "ok " + std::to_string(d->structs.size()) : "error " + d.error().message;
    }
    return "error unknown command or wrong arguments: " + cmd;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::vector<std::string> words(argv + 1, argv + argc);
        const std::string result = run(words);
        std::cout << result << '\n';
        return result.rfind("ok", 0) == 0 ? 0 : 1;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::vector<std::string> words;
        for (std::string w; in >> w;) {
            words.push_back(w);
        }
        if (words.empty()) {
            continue;
        }
        std::cout << run(words) << '\n';
    }
    return 0;
}
