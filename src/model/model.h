// A Llama-family causal language model in memory: its config and f32 weights.
#pragma once

#include <string>

#include "model/config.h"
#include "model/weights.h"

namespace weld {

struct Model {
  ModelConfig config;
  Weights weights;
};

// Opens the Hugging Face model directory at `path` (single file or sharded), parses its
// config.json and loads every weight as f32. Errors name the directory and the key or
// tensor at fault.
Model load_model(const std::string& path, unsigned threads);

}  // namespace weld
