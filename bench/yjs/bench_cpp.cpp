// Times Huddle's Yjs engine (huddle_yjs) on the session gen-session.mjs wrote, with the same
// operations and inputs as bench-js.mjs, so that one run compares the two engines.
//
//   huddle-yjs-bench --dir DIR [--runs 5] [--flat 10000] [--block 100]
//
// Prints one JSON line of medians and min–max (ms) and writes each output to DIR/cpp-*.bin.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "yjs/yjs.hpp"

namespace {

using huddle::yjs::Bytes;
using Span = std::span<const std::uint8_t>;

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "huddle-yjs-bench: %s\n", msg.c_str());
    std::exit(1);
}

Bytes read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        die("cannot read " + path);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const Bytes& b) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out)
        die("cannot write " + path);
}

std::uint32_t u32le(const Bytes& b, std::size_t off) {
    if (off + 4 > b.size())
        die("updates.bin is truncated");
    return static_cast<std::uint32_t>(b[off]) | (static_cast<std::uint32_t>(b[off + 1]) << 8) |
           (static_cast<std::uint32_t>(b[off + 2]) << 16) |
           (static_cast<std::uint32_t>(b[off + 3]) << 24);
}

// Views into the file: the engine reads the bytes in place, as the JS side reads subarrays.
std::vector<Span> split_updates(const Bytes& file) {
    const std::uint32_t count = u32le(file, 0);
    std::vector<Span> out;
    out.reserve(count);
    std::size_t off = 4;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t len = u32le(file, off);
        off += 4;
        if (off + len > file.size())
            die("updates.bin is truncated");
        out.emplace_back(file.data() + off, len);
        off += len;
    }
    return out;
}

Bytes unwrap(huddle::yjs::Result<Bytes> r, const char* what) {
    if (!r)
        die(std::string(what) + ": " + r.error().message);
    return std::move(*r);
}

struct Timing {
    std::vector<double> ms;
    Bytes out;
};

Timing time_runs(int runs, const std::function<Bytes()>& fn) {
    Timing t;
    for (int r = 0; r < runs; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        t.out = fn();
        const auto t1 = std::chrono::steady_clock::now();
        t.ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    return t;
}

std::string stats_json(std::vector<double> ms, std::size_t bytes) {
    std::sort(ms.begin(), ms.end());
    const std::size_t n = ms.size();
    const double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  R"({"runs":%zu,"median_ms":%.4f,"min_ms":%.4f,"max_ms":%.4f,"bytes":%zu})", n,
                  median, ms.front(), ms.back(), bytes);
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    std::string dir = ".";
    int runs = 5;
    std::size_t flat = 10000;
    std::size_t block = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const std::string v = argv[i + 1];
        if (k == "--dir") {
            dir = v;
        } else if (k == "--runs") {
            runs = std::max(1, std::atoi(v.c_str()));
        } else if (k == "--flat") {
            flat = static_cast<std::size_t>(std::atol(v.c_str()));
        } else if (k == "--block") {
            block = std::max<std::size_t>(1, static_cast<std::size_t>(std::atol(v.c_str())));
        } else {
            die("unknown option " + k);
        }
    }
    const Bytes file = read_file(dir + "/updates.bin");
    const Bytes half_sv = read_file(dir + "/half-sv.bin");
    const std::vector<Span> updates = split_updates(file);
    const std::span<const Span> first(updates.data(), std::min(flat, updates.size()));

    const auto merge_blocks = [&] {
        std::vector<Bytes> blocks;
        blocks.reserve(updates.size() / block + 1);
        for (std::size_t i = 0; i < updates.size(); i += block) {
            const std::size_t n = std::min(block, updates.size() - i);
            blocks.push_back(unwrap(
                huddle::yjs::merge_updates(std::span<const Span>(updates.data() + i, n)), "merge"));
        }
        return unwrap(huddle::yjs::merge_updates(blocks), "merge");
    };

    std::string json = R"({"engine":"cpp","flat":)" + std::to_string(first.size()) +
                       R"(,"block":)" + std::to_string(block) + R"(,"results":{)";
    Bytes merged;
    const auto run = [&](const char* name, const std::function<Bytes()>& fn) {
        Timing t = time_runs(runs, fn);
        write_file(dir + "/cpp-" + name + ".bin", t.out);
        if (json.back() != '{')
            json += ',';
        json += '"' + std::string(name) + "\":" + stats_json(t.ms, t.out.size());
        return std::move(t.out);
    };
    run("merge_flat", [&] { return unwrap(huddle::yjs::merge_updates(first), "merge"); });
    merged = run("merge_blocks", merge_blocks);
    run("diff", [&] { return unwrap(huddle::yjs::diff_update(merged, half_sv), "diff"); });
    run("state_vector", [&] {
        return unwrap(huddle::yjs::encode_state_vector_from_update(merged), "state vector");
    });
    // The whole session in one call: the JavaScript engine takes minutes for this (its merge is
    // quadratic in the number of updates), so only this side runs it.
    run("merge_all", [&] {
        return unwrap(huddle::yjs::merge_updates(std::span<const Span>(updates)), "merge");
    });
    json += "}}";
    std::printf("%s\n", json.c_str());
    return 0;
}
