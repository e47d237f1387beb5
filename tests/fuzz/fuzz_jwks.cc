// A JWK Set document, as an OIDC provider's jwks_uri serves it.
#include "auth/jwt.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto keys = backspan::auth::KeySet::Parse(backspan::fuzz::Text(data, size));
  if (keys.ok()) {
    (void)keys->Find("k1");
    BACKSPAN_FUZZ_CHECK(keys->size() + keys->skipped() < size + 1);
  }
  return 0;
}
