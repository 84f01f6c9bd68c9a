// RUN: not onebit-opt %s -onebit-gpu-sign-gemv=rows-per-step=0 2>&1 | FileCheck %s
// RUN: not onebit-opt %s -onebit-gpu-sign-gemv=max-grid-size=0 2>&1 | FileCheck %s

// Schedules the kernel cannot take are rejected, not miscompiled.
// CHECK: error: onebit-gpu-sign-gemv: rows-per-step must be 1..8 and max-grid-size at least 1
func.func @any() {
  return
}
