//===- ExternalData.cpp - initializer bytes from external files -----------===//

#include "ExternalData.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace llvm;
using namespace mlir::onebit::onnx_import;

bool mlir::onebit::onnx_import::checkRegularFile(StringRef path,
                                                 std::string &error) {
  sys::fs::file_status status;
  if (std::error_code code = sys::fs::status(path, status)) {
    error = "cannot read '" + path.str() + "': " + code.message();
    return false;
  }
  if (status.type() != sys::fs::file_type::regular_file) {
    error = "'" + path.str() + "' is not a regular file";
    return false;
  }
  return true;
}

/// A decimal number of bytes: digits only, no sign, fitting int64.
static bool parseByteCount(StringRef text, uint64_t &value) {
  if (text.empty() || !llvm::all_of(text, llvm::isDigit))
    return false;
  return !text.getAsInteger(10, value) && value <= uint64_t(INT64_MAX);
}

/// Whether `path` is `directory` itself or lies below it (both real paths).
static bool isInside(StringRef path, StringRef directory) {
  if (!path.starts_with(directory))
    return false;
  StringRef rest = path.drop_front(directory.size());
  return rest.empty() || sys::path::is_separator(rest.front()) ||
         sys::path::is_separator(directory.back());
}

std::unique_ptr<MemoryBuffer> mlir::onebit::onnx_import::mapExternalData(
    const onnx::TensorProto &tensor, StringRef modelDirectory,
    StringRef allowedDirectory, uint64_t expectedBytes, std::string &error) {
  std::string location;
  uint64_t offset = 0, length = expectedBytes;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    const std::string &key = entry.key();
    if (key == "location") {
      location = entry.value();
    } else if (key == "offset" || key == "length") {
      uint64_t &field = key == "offset" ? offset : length;
      if (!parseByteCount(entry.value(), field)) {
        error = "external data " + key + " '" + entry.value() +
                "' is not a number of bytes";
        return nullptr;
      }
    }
  }
  if (location.empty() || sys::path::is_absolute(location) ||
      location.find('\0') != std::string::npos) {
    error = "external data location '" + location +
            "' must be a relative path inside the model's directory";
    return nullptr;
  }
  if (length != expectedBytes) {
    error = "external data of " + std::to_string(length) + " bytes, expected " +
            std::to_string(expectedBytes);
    return nullptr;
  }

  // Symlinks and '..' are resolved before the containment check, so a link
  // to /etc/passwd or a folder link to '..' is refused like '../x'.
  SmallString<256> realDirectory, path(modelDirectory), realPath;
  sys::path::append(path, location);
  if (std::error_code code = sys::fs::real_path(
          allowedDirectory.empty() ? "." : allowedDirectory, realDirectory)) {
    error = "cannot resolve the external data directory '" +
            allowedDirectory.str() + "': " + code.message();
    return nullptr;
  }
  if (std::error_code code = sys::fs::real_path(path, realPath)) {
    error = "cannot read external data file '" + path.str().str() +
            "': " + code.message();
    return nullptr;
  }
  if (!isInside(realPath, realDirectory)) {
    error = "external data file '" + path.str().str() + "' resolves to '" +
            realPath.str().str() + "', outside the directory '" +
            realDirectory.str().str() + "' (see --external-data-dir)";
    return nullptr;
  }
  if (!checkRegularFile(realPath, error)) {
    error = "external data " + error;
    return nullptr;
  }
  uint64_t fileSize = 0;
  if (std::error_code code = sys::fs::file_size(realPath, fileSize)) {
    error = "cannot read external data file '" + path.str().str() +
            "': " + code.message();
    return nullptr;
  }
  // Mapping past the end would fault (SIGBUS) or read zeros.
  if (offset > fileSize || length > fileSize - offset) {
    error = "external data file '" + path.str().str() + "' holds " +
            std::to_string(fileSize) + " bytes, but the tensor needs bytes " +
            std::to_string(offset) + " to " + std::to_string(offset + length) +
            " (truncated?)";
    return nullptr;
  }
  auto buffer = MemoryBuffer::getFileSlice(realPath, length, offset,
                                           /*IsVolatile=*/false);
  if (!buffer) {
    error = "cannot read external data file '" + path.str().str() +
            "': " + buffer.getError().message();
    return nullptr;
  }
  if ((*buffer)->getBufferSize() != length) {
    error = "external data file '" + path.str().str() + "' is truncated";
    return nullptr;
  }
  return std::move(*buffer);
}
