//===- LibraryFile.cpp - a model library checked before dlopen ------------===//

#include "LibraryFile.h"

#include <elf.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

using namespace onebit_run;

/// Whether [offset, offset + count * size) lies within `fileSize` bytes.
static bool fits(uint64_t offset, uint64_t count, uint64_t size,
                 uint64_t fileSize) {
  if (size && count > fileSize / size)
    return false;
  return offset <= fileSize && count * size <= fileSize - offset;
}

bool onebit_run::checkLibraryFile(const std::string &path, std::string &error) {
  struct stat status;
  if (stat(path.c_str(), &status) != 0) {
    error = std::strerror(errno);
    return false;
  }
  if (!S_ISREG(status.st_mode)) {
    error = "not a regular file";
    return false;
  }
  uint64_t fileSize = uint64_t(status.st_size);
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr header;
  if (!in || fileSize < sizeof(header) ||
      !in.read(reinterpret_cast<char *>(&header), sizeof(header)) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    error = "not a shared library (no ELF header)";
    return false;
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_ident[EI_DATA] != ELFDATA2LSB || header.e_type != ET_DYN) {
    error = "not a 64-bit little-endian shared library";
    return false;
  }
  if (header.e_phentsize != sizeof(Elf64_Phdr) ||
      !fits(header.e_phoff, header.e_phnum, sizeof(Elf64_Phdr), fileSize) ||
      (header.e_shnum &&
       (header.e_shentsize != sizeof(Elf64_Shdr) ||
        !fits(header.e_shoff, header.e_shnum, sizeof(Elf64_Shdr), fileSize)))) {
    error = "truncated or corrupt (its ELF headers lie outside the file's " +
            std::to_string(fileSize) + " bytes)";
    return false;
  }
  std::vector<Elf64_Phdr> segments(header.e_phnum);
  in.seekg(std::streamoff(header.e_phoff));
  if (!in.read(reinterpret_cast<char *>(segments.data()),
               std::streamsize(segments.size() * sizeof(Elf64_Phdr)))) {
    error = "truncated";
    return false;
  }
  for (const Elf64_Phdr &segment : segments)
    if (!fits(segment.p_offset, 1, segment.p_filesz, fileSize)) {
      error = "truncated or corrupt (a segment of " +
              std::to_string(segment.p_filesz) + " bytes at offset " +
              std::to_string(segment.p_offset) + " lies outside the file's " +
              std::to_string(fileSize) + " bytes)";
      return false;
    }
  return true;
}
