// The README's example: canonicalize folds g into the layer, then the layer
// expands into TOSA.
// RUN: onebit-opt %onebit_src_root/docs/examples/onebit-layer.mlir \
// RUN:   --pass-pipeline='builtin.module(func.func(canonicalize))' | FileCheck %s --check-prefix=FOLD
// RUN: onebit-opt %onebit_src_root/docs/examples/onebit-layer.mlir \
// RUN:   --pass-pipeline='builtin.module(func.func(canonicalize,onebit-expand-linear,canonicalize))' | FileCheck %s --check-prefix=EXPAND

// FOLD-LABEL: func @onebit_layer
// FOLD-NOT: tosa.mul
// FOLD: onebit.linear %arg0, %{{.*}} input_scale(%{{.*}} : tensor<16xf32>) output_scale

// EXPAND-LABEL: func @onebit_layer
// EXPAND-NOT: onebit.linear
// EXPAND: onebit.unpack_signs
// EXPAND: tosa.matmul
// EXPAND: tosa.rsqrt
