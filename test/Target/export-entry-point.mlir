// RUN: onebit-opt %s --split-input-file --allow-unregistered-dialect --verify-diagnostics --onebit-export-entry-point | FileCheck %s

// The signature: inputs and outputs, then the index checks (the last
// result) with one line per segment; the checks' attribute is dropped.
// CHECK: module attributes {onebit.signature = "onebit-signature 2 1 2 -1\0Ainput 3:ids int64 2 1 3\0Aoutput 1:y float32 3 1 3 4\0Acheck 12:index_checks int64 1 3\0Aindex 8 3 39:ONNX node 'embed' (Gather): input 'ids'\0A"}
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: -> (tensor<1x3x4xf32> {onnx.name = "y", onnx.type = "float32"}, tensor<3xi64>)
func.func @main_graph(%ids: tensor<1x3xi64> {onnx.name = "ids", onnx.type = "int64"})
    -> (tensor<1x3x4xf32> {onnx.name = "y", onnx.type = "float32"},
        tensor<3xi64> {onebit.index_checks = [#onebit.index_check<dim = 8, count = 3, what = "ONNX node 'embed' (Gather): input 'ids'">]}) {
  %y = "test.embed"(%ids) : (tensor<1x3xi64>) -> tensor<1x3x4xf32>
  %checks = "test.offenders"(%ids) : (tensor<1x3xi64>) -> tensor<3xi64>
  return %y, %checks : tensor<1x3x4xf32>, tensor<3xi64>
}

// -----

// expected-error @below {{result 0 holds index checks, but only the last result may}}
func.func @main_graph(%ids: tensor<3xi64>)
    -> (tensor<3xi64> {onebit.index_checks = [#onebit.index_check<dim = 8, count = 3, what = "ids">]}, tensor<3xi64>) {
  return %ids, %ids : tensor<3xi64>, tensor<3xi64>
}

// -----

// expected-error @below {{result 0 holds index checks of 5 indices, so it must be tensor<5xi64>, not 'tensor<3xi64>'}}
func.func @main_graph(%ids: tensor<3xi64>)
    -> (tensor<3xi64> {onebit.index_checks = [#onebit.index_check<dim = 8, count = 2, what = "a">, #onebit.index_check<dim = 4, count = 3, what = "b">]}) {
  return %ids : tensor<3xi64>
}

// -----

// expected-error @below {{result 0: onebit.index_checks holds 1 : i64, not a #onebit.index_check}}
func.func @main_graph(%ids: tensor<3xi64>)
    -> (tensor<3xi64> {onebit.index_checks = [1]}) {
  return %ids : tensor<3xi64>
}

// -----

// expected-error @below {{index_check count must be at least 1, got 0}}
func.func @bad_attribute() attributes {check = #onebit.index_check<dim = 8, count = 0, what = "a">} {
  return
}

// -----

// expected-error @below {{index_check dim must be at least 1, got 0}}
func.func @bad_dim() attributes {check = #onebit.index_check<dim = 0, count = 1, what = "a">} {
  return
}

// -----

// expected-error @below {{index_check what must name the indices}}
func.func @no_name() attributes {check = #onebit.index_check<dim = 8, count = 1, what = "">} {
  return
}
