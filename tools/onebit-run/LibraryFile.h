//===- LibraryFile.h - a model library checked before dlopen ----*- C++ -*-===//
//
// dlopen maps a library's segments as its program headers say; a truncated
// or corrupt file faults (SIGBUS) inside the loader instead of failing.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_TOOLS_ONEBIT_RUN_LIBRARYFILE_H
#define ONEBIT_TOOLS_ONEBIT_RUN_LIBRARYFILE_H

#include <string>

namespace onebit_run {

/// Whether `path` is a regular file holding a 64-bit little-endian ELF
/// shared object whose program and section headers, and every segment
/// they place, lie inside the file; otherwise `error` says why ("truncated
/// or corrupt (...)", for a message that names the file).
bool checkLibraryFile(const std::string &path, std::string &error);

} // namespace onebit_run

#endif // ONEBIT_TOOLS_ONEBIT_RUN_LIBRARYFILE_H
