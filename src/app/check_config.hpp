// `huddle check-config FILE`: every error of one configuration file, each with its line.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace huddle::app {

// The errors of the file alone (no environment, no flags): what the loader reports with lines,
// then the whole-settings checks of config::validate, each placed on the line of the first
// setting or namespace its message names (line 0 when the file does not set any of them).
std::vector<config::ConfigError> check_config_file(const std::string& path);

// Prints the errors on stderr, or "FILE: OK" on stdout; returns 0 or 1.
int run_check_config(const std::string& path);

}  // namespace huddle::app
