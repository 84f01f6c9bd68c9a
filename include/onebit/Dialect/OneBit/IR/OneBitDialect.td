//===- OneBitDialect.td - onebit dialect definition --------*- tablegen -*-===//

#ifndef ONEBIT_DIALECT_ONEBIT_IR_ONEBITDIALECT_TD
#define ONEBIT_DIALECT_ONEBIT_IR_ONEBITDIALECT_TD

include "mlir/IR/OpBase.td"

def OneBit_Dialect : Dialect {
  let name = "onebit";
  let cppNamespace = "::mlir::onebit";
  let summary = "Linear layers with 1-bit sign weights and their layouts";
  let description = [{
    The `onebit` dialect holds what no upstream dialect says: a linear layer
    whose weight is a matrix of signs `S ∈ {−1,+1}^{N×K}` packed into integer
    words, scaled by floating-point vectors on its input and output sides and
    optionally followed by a LayerNorm without affine parameters
    (OneBit, arXiv 2402.11295), and the small ops that pack, unpack and
    re-lay-out such sign matrices.

    Everything else a model needs is expressed with upstream dialects
    (`tosa`, `linalg`, `tensor`, `arith`, `math`, ...).

    The packed layout of a sign matrix is described by the
    `#onebit.sign_packing` attribute, which every op that reads or writes
    packed signs carries. A layout only changes through an explicit op
    (`onebit.repack`).
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // ONEBIT_DIALECT_ONEBIT_IR_ONEBITDIALECT_TD
