// What the POSIX Env's files share between its translation units
// (posix_env.cc, posix_directory.cc); not for use outside env/.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <string>

#include "env/directory.h"
#include "env/env.h"

namespace backspan {

FileInfo InfoFromStat(const struct stat& st);
// Takes ownership of `fd`.
std::unique_ptr<ReadableFile> NewPosixReadableFile(int fd, std::string path);
// Closes `*fd` and sets it to -1, so a destructor does not close it again;
// `path` names the file in the error.
Status CloseFd(int* fd, const std::string& path);
// Takes ownership of `fd` (an O_RDONLY | O_DIRECTORY descriptor).
std::unique_ptr<Directory> NewPosixDirectory(int fd, std::string path);

}  // namespace backspan
