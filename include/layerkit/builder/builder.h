// Builder: build() makes an Engine from a network and a BuilderConfig (layerkit/runtime/
// engine_config.h, which the engine keeps).
#pragma once

#include <memory>

#include "layerkit/runtime/engine_config.h"

namespace layerkit {

class Network;
class Engine;

class Builder {
 public:
  // Validates the network against the config (every dynamic input has a profile entry with
  // min <= opt <= max, static dims agree, the network infers at min, opt and max) and builds it.
  static std::unique_ptr<Engine> build(const Network& network, const BuilderConfig& config);
  // check_build_config (layerkit/runtime/engine_config.h): the checks build() makes before it
  // optimizes.
  static void validate(const Network& network, const BuilderConfig& config);
};

}  // namespace layerkit
