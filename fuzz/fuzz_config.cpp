// libFuzzer target: arbitrary text as a config file. Must never crash, hang or leak; whatever it
// applies must still format and validate.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    huddle::config::Settings settings;
    for (const auto& error : huddle::config::apply_toml_text(settings, text, "fuzz.toml")) {
        (void)huddle::config::format_error(error);
    }
    (void)huddle::config::validate(settings);
    (void)huddle::config::settings_warnings(settings);
    // What was applied can be written back out and read again without errors.
    huddle::config::Settings again;
    if (!huddle::config::apply_toml_text(again, huddle::config::settings_to_toml(settings, false),
                                         "roundtrip.toml")
             .empty()) {
        __builtin_trap();
    }
    return 0;
}
