// Shared pieces of the `layerkit` command line: flag parsing, shape strings, usage errors.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "layerkit/core/dims.h"

namespace layerkit::cli {

// A bad flag or value: printed as one line, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "--name=value" or "--name value" flags plus positional arguments.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // boolean flags map to ""
  bool help = false;
  std::optional<std::string> get(const std::string& name) const;
  int64_t get_int(const std::string& name, int64_t fallback, int64_t min_value) const;
};
// `value_flags` take a value; `bool_flags` do not. Anything else is a UsageError.
Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& value_flags,
                const std::vector<std::string>& bool_flags);

// trtexec's shape strings: "x:1x3x224x224,'y:z':4" -> {x: [1,3,224,224], y:z: [4]}.
std::map<std::string, Dims> parse_shapes(const std::string& spec, const std::string& flag);

int run_command(const Args& args);
int conformance_command(const Args& args);

}  // namespace layerkit::cli
