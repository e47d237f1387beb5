// Hex and base64 text encodings of binary values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.h"

namespace backspan {

// Lower-case hex of `data`.
std::string HexEncode(ByteView data);
// Decodes hex (either case); nullopt on odd length or a non-hex character.
std::optional<Bytes> HexDecode(std::string_view hex);
// Standard base64 with padding.
std::string Base64Encode(ByteView data);
std::optional<Bytes> Base64Decode(std::string_view text);
// The URL-safe alphabet without padding (RFC 4648 section 5), as JOSE uses
// it; decoding rejects padding and characters of the standard alphabet.
std::string Base64UrlEncode(ByteView data);
std::optional<Bytes> Base64UrlDecode(std::string_view text);

}  // namespace backspan
