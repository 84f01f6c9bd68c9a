//===- onebit-opt.cpp - run onebit and MLIR passes on IR ------------------===//

#include "onebit/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::onebit::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::onebit::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "onebit optimizer driver: onebit and MLIR passes\n",
      registry));
}
