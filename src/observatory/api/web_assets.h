// The web UI's files (web/ and the chart library from node_modules), built
// into the binary by cmake/embed_assets.cmake so the UI needs no network.
#pragma once

#include <string_view>

namespace backspan::observatory {

struct WebAsset {
  const char* path;          // e.g. "index.html", "assets/app.js"
  const char* content_type;
  std::string_view data;
};

// The asset at `path`, or nullptr.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace backspan::observatory
