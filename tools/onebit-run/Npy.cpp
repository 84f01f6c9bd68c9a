//===- Npy.cpp - numpy .npy files for onebit-run --------------------------===//

#include "Npy.h"

#include <cstdint>
#include <cstring>
#include <fstream>

using namespace onebit_run;

namespace {

struct DTypeCode {
  const char *descr;
  onebit_dtype dtype;
  int64_t size;
};

// bfloat16 has no standard .npy descr; onebit-run does not read or write it.
const DTypeCode kCodes[] = {
    {"<f4", ONEBIT_FLOAT32, 4}, {"<f2", ONEBIT_FLOAT16, 2},
    {"<i8", ONEBIT_INT64, 8},   {"<i4", ONEBIT_INT32, 4},
    {"|i1", ONEBIT_INT8, 1},    {"|u1", ONEBIT_UINT8, 1},
    {"|b1", ONEBIT_BOOL, 1}};

/// The text after `'key':` in the header dict, up to the ',' or '}' that
/// ends it (a tuple's commas included), trimmed; empty if absent.
std::string findValue(const std::string &header, const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return "";
  at = header.find(':', at);
  if (at == std::string::npos)
    return "";
  size_t start = header.find_first_not_of(' ', at + 1);
  if (start == std::string::npos)
    return "";
  size_t end = header[start] == '(' ? header.find(')', start)
                                    : header.find_first_of(",}", start);
  if (end == std::string::npos)
    return "";
  if (header[start] == '(')
    ++end;
  size_t last = header.find_last_not_of(' ', end - 1);
  return header.substr(start, last + 1 - start);
}

/// A shape tuple "(2, 3)", "(4,)" or "()": non-negative dims whose element
/// count times `elementSize` fits int64.
bool parseShape(const std::string &text, int64_t elementSize,
                std::vector<int64_t> &shape, int64_t &bytes) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    return false;
  shape.clear();
  bytes = elementSize;
  size_t at = 1;
  while (true) {
    while (at < text.size() && text[at] == ' ')
      ++at;
    if (text[at] == ')')
      return at + 1 == text.size();
    size_t digits = at;
    int64_t dim = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (dim > (INT64_MAX - 9) / 10)
        return false;
      dim = dim * 10 + (text[at++] - '0');
    }
    if (at == digits)
      return false;
    if (dim != 0 && bytes > INT64_MAX / dim)
      return false;
    bytes *= dim;
    shape.push_back(dim);
    while (at < text.size() && text[at] == ' ')
      ++at;
    if (text[at] == ',')
      ++at;
    else if (text[at] != ')')
      return false;
  }
}

} // namespace

bool onebit_run::readNpy(const std::string &path, NpyArray &array,
                         std::string &error) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    error = "cannot open '" + path + "'";
    return false;
  }
  int64_t fileSize = in.tellg();
  in.seekg(0);
  char magic[8];
  if (fileSize < 10 || !in.read(magic, 8) ||
      std::memcmp(magic, "\x93NUMPY", 6) != 0 || magic[6] < 1 ||
      magic[6] > 3) {
    error = "'" + path + "' is not a .npy file";
    return false;
  }
  // Version 1 has a 2-byte header length, versions 2 and 3 a 4-byte one
  // (little-endian).
  unsigned char lengthBytes[4] = {0, 0, 0, 0};
  int64_t lengthSize = magic[6] == 1 ? 2 : 4;
  if (!in.read(reinterpret_cast<char *>(lengthBytes), lengthSize)) {
    error = "'" + path + "' is truncated";
    return false;
  }
  int64_t headerLength = lengthBytes[0] | lengthBytes[1] << 8 |
                         int64_t(lengthBytes[2]) << 16 |
                         int64_t(lengthBytes[3]) << 24;
  int64_t dataStart = 8 + lengthSize + headerLength;
  if (dataStart > fileSize) {
    error = "'" + path + "' is truncated (its header runs past the end)";
    return false;
  }
  std::string header(headerLength, '\0');
  if (!in.read(header.data(), headerLength)) {
    error = "'" + path + "' is truncated";
    return false;
  }
  if (findValue(header, "fortran_order") == "True") {
    error = "'" + path + "' is in Fortran order; save it in C order";
    return false;
  }
  std::string descr = findValue(header, "descr");
  int64_t size = 0;
  for (const DTypeCode &code : kCodes)
    if (descr == std::string("'") + code.descr + "'") {
      array.dtype = code.dtype;
      size = code.size;
    }
  if (!size) {
    error = "'" + path + "' has the unsupported dtype " +
            (descr.empty() ? std::string("(none)") : descr);
    return false;
  }
  int64_t bytes = 0;
  std::string shape = findValue(header, "shape");
  if (!parseShape(shape, size, array.shape, bytes)) {
    error = "'" + path + "' has the malformed or too large shape " +
            (shape.empty() ? std::string("(none)") : shape);
    return false;
  }
  // Checked before allocating: a header may claim any shape.
  if (bytes > fileSize - dataStart) {
    error = "'" + path + "' is truncated: its shape needs " +
            std::to_string(bytes) + " bytes of data, the file holds " +
            std::to_string(fileSize - dataStart);
    return false;
  }
  array.data.resize(bytes);
  if (!in.read(array.data.data(), bytes)) {
    error = "'" + path + "' is truncated";
    return false;
  }
  return true;
}

bool onebit_run::writeNpy(const std::string &path, const NpyArray &array,
                          std::string &error) {
  const char *descr = nullptr;
  for (const DTypeCode &code : kCodes)
    if (code.dtype == array.dtype)
      descr = code.descr;
  if (!descr) {
    error = "cannot write this dtype (" + std::to_string(array.dtype) +
            ") to .npy";
    return false;
  }
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < array.shape.size(); ++i)
    header += std::to_string(array.shape[i]) + (array.shape.size() == 1 || i + 1 < array.shape.size() ? ", " : "");
  header += "), }";
  // Pad so that the data starts at a multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) {
    error = "cannot write '" + path + "'";
    return false;
  }
  uint16_t length = header.size();
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(reinterpret_cast<const char *>(&length), 2);
  out << header;
  out.write(array.data.data(), array.data.size());
  return bool(out);
}
