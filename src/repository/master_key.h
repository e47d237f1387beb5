// The repository master key: generated at init, stored only wrapped in key
// files, never written in the clear.
#pragma once

#include "crypto/crypto.h"

namespace backspan {

struct MasterKey {
  crypto::Key encryption;  // seals every object
  crypto::Key id_key;      // keys the HMAC that names blobs
};

}  // namespace backspan
