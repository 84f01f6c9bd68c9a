//===- Importer.cpp - ONNX models to MLIR ---------------------------------===//

#include "onebit/Frontend/ONNX/Importer.h"
#include "ExternalData.h"
#include "GraphImporter.h"
#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/parser.h"

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <exception>

using namespace mlir;
using namespace mlir::onebit;

void mlir::onebit::registerImporterDialects(DialectRegistry &registry) {
  registry.insert<OneBitDialect, arith::ArithDialect, func::FuncDialect,
                  tensor::TensorDialect, tosa::TosaDialect>();
}

LogicalResult mlir::onebit::parseInputShape(StringRef spec,
                                            ImportOptions &options,
                                            std::string &error) {
  auto [name, dims] = spec.rsplit('=');
  if (name.empty() || dims.empty()) {
    error = "expected NAME=DIMxDIM..., got '" + spec.str() + "'";
    return failure();
  }
  SmallVector<int64_t> shape;
  SmallVector<StringRef> parts;
  dims.split(parts, 'x');
  for (StringRef part : parts) {
    int64_t dim;
    if (part.getAsInteger(10, dim) || dim < 0) {
      error = "'" + part.str() + "' in '" + spec.str() +
              "' is not a dimension size";
      return failure();
    }
    shape.push_back(dim);
  }
  options.inputShapes[name] = shape;
  return success();
}

/// Reads a binary ModelProto; protobuf's default 64 MiB message limit is
/// lifted to the 2 GiB the format allows (larger models use external
/// data).
static LogicalResult readBinaryModel(StringRef path, onnx::ModelProto &model,
                                     Location loc) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return emitError(loc) << "cannot read '" << path
                          << "': " << buffer.getError().message();
  StringRef data = (*buffer)->getBuffer();
  if (data.size() > size_t(INT_MAX))
    return emitError(loc) << "'" << path
                          << "' is over 2 GiB: store the weights as ONNX "
                             "external data";
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(data.data()), int(data.size()));
  stream.SetTotalBytesLimit(INT_MAX);
  if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    return emitError(loc) << "'" << path
                          << "' is not a valid ONNX model (malformed or "
                             "truncated protobuf)";
  return success();
}

static LogicalResult readTextModel(StringRef path, onnx::ModelProto &model,
                                   Location loc) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return emitError(loc) << "cannot read '" << path
                          << "': " << buffer.getError().message();
  onnx::OnnxParser parser((*buffer)->getBufferStart());
  onnx::Common::Status status = parser.Parse(model);
  if (!status.IsOK())
    return emitError(loc) << "cannot parse ONNX text: "
                          << status.ErrorMessage();
  return success();
}

OwningOpRef<ModuleOp> mlir::onebit::importONNXFile(StringRef path,
                                                   MLIRContext *context,
                                                   const ImportOptions &options) {
  context->loadDialect<OneBitDialect, arith::ArithDialect, func::FuncDialect,
                       tensor::TensorDialect, tosa::TosaDialect>();
  Location loc = FileLineColLoc::get(context, path, 0, 0);
  // A FIFO would block the read, /dev/zero exhaust memory.
  std::string error;
  if (!onnx_import::checkRegularFile(path, error)) {
    emitError(loc) << error;
    return nullptr;
  }
  // libonnx's parser and schemas report some errors by throwing (numbers
  // out of range, for one): every exception becomes a diagnostic here.
  try {
    onnx::ModelProto model;
    StringRef extension = llvm::sys::path::extension(path);
    bool isText = extension == ".onnxtext" || extension == ".txt";
    if (failed(isText ? readTextModel(path, model, loc)
                      : readBinaryModel(path, model, loc)))
      return nullptr;
    onnx_import::GraphImporter importer(context, model, path, options);
    return importer.import();
  } catch (const std::exception &exception) {
    emitError(loc) << "cannot import the model: " << exception.what();
  } catch (...) {
    emitError(loc) << "cannot import the model: an unknown error";
  }
  return nullptr;
}
