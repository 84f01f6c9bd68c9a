// RUN: onebit-opt %s -onebit-decompose-linear -verify-diagnostics -o /dev/null

// The kernels need static shapes: an op with a dynamic one is an error
// naming it, not a leftover.
func.func @dynamic_rows(%x: tensor<?x64xf32>, %s: tensor<4x8xi8>) -> tensor<?x4xf32> {
  // expected-error @+1 {{cannot decompose: the input shape must be static}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<?x64xf32>, tensor<4x8xi8> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
