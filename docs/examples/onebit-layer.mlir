// A OneBit layer as the importer leaves it before canonicalization: the
// input-side scale g arrives as a separate multiply. `canonicalize` folds it
// into the layer; `onebit-expand-linear` then spells the layer out in TOSA.
//
//   onebit-opt docs/examples/onebit-layer.mlir \
//     --pass-pipeline='builtin.module(func.func(canonicalize,onebit-expand-linear,canonicalize))'

func.func @onebit_layer(%x: tensor<1x16xf32>) -> tensor<1x4xf32> {
  %g = "tosa.const"() <{values = dense<[[0.5, 0.25, 1.0, 2.0, 0.5, 0.25, 1.0, 2.0,
                                          0.5, 0.25, 1.0, 2.0, 0.5, 0.25, 1.0, 2.0]]>
                        : tensor<1x16xf32>}> : () -> tensor<1x16xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %xg = tosa.mul %x, %g, %shift : (tensor<1x16xf32>, tensor<1x16xf32>, tensor<1xi8>) -> tensor<1x16xf32>
  // S as OneBit stores it: bytes, lowest input in the least significant bit,
  // bit 1 meaning -1.
  %s = arith.constant dense<[[-122, 1], [15, -16], [0, -1], [85, -86]]> : tensor<4x2xi8>
  %h = arith.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>
  %y = onebit.linear %xg, %s output_scale(%h : tensor<4xf32>) norm(epsilon = 1.0e-05)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<1x16xf32>, tensor<4x2xi8> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
