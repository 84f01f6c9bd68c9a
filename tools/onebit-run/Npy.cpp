//===- Npy.cpp - numpy .npy files for onebit-run --------------------------===//

#include "Npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

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

/// The value of `key` in the header dict, up to the next ',' or ')' pair.
std::string findValue(const std::string &header, const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return "";
  at = header.find(':', at);
  if (at == std::string::npos)
    return "";
  size_t end = header[header.find_first_not_of(" ", at + 1)] == '('
                   ? header.find(')', at) + 1
                   : header.find(',', at);
  return header.substr(at + 1, end - at - 1);
}

} // namespace

bool onebit_run::readNpy(const std::string &path, NpyArray &array,
                         std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return false;
  }
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    error = "'" + path + "' is not a .npy file";
    return false;
  }
  uint32_t headerLength = 0;
  if (magic[6] == 1) {
    uint16_t length;
    in.read(reinterpret_cast<char *>(&length), 2);
    headerLength = length;
  } else {
    in.read(reinterpret_cast<char *>(&headerLength), 4);
  }
  std::string header(headerLength, '\0');
  if (!in.read(header.data(), headerLength)) {
    error = "'" + path + "' is truncated";
    return false;
  }
  if (findValue(header, "fortran_order").find("True") != std::string::npos) {
    error = "'" + path + "' is in Fortran order; save it in C order";
    return false;
  }
  std::string descr = findValue(header, "descr");
  int64_t size = 0;
  for (const DTypeCode &code : kCodes)
    if (descr.find(code.descr) != std::string::npos) {
      array.dtype = code.dtype;
      size = code.size;
    }
  if (!size) {
    error = "'" + path + "' has the unsupported dtype " + descr;
    return false;
  }
  std::string shape = findValue(header, "shape");
  array.shape.clear();
  std::stringstream dims(shape.substr(shape.find('(') + 1));
  int64_t dim;
  char separator;
  while (dims >> dim) {
    array.shape.push_back(dim);
    dims >> separator;
  }
  int64_t count = 1;
  for (int64_t d : array.shape)
    count *= d;
  array.data.resize(count * size);
  if (!in.read(array.data.data(), array.data.size())) {
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
